// Command petitiond runs the petitions service: the HTTP API, the Temporal worker, database
// migrations and administrative tasks, as subcommands of one binary.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "petitiond:", err)
		os.Exit(1)
	}
}

const usage = `petitiond runs the petitions service (信访事项 as durable Temporal workflows).

Usage: petitiond <command> [flags]

Commands:
  all        run the HTTP API and the worker in one process
  api        run the HTTP API
  worker     run the Temporal worker
  migrate    apply database migrations and load the shipped holiday calendars
  seed       load the demo district (units, staff, routing rules); idempotent
  calendar   import or show a year of public holidays: calendar import FILE | calendar show YEAR
  import     bring running cases in from an earlier system (补录) through the API: import FILE.csv|FILE.json
  policies   list the deadline policies in force
  staff      manage staff accounts: staff add|passwd|disable|enable|list
  token      manage API tokens: token create|revoke|list
  keys       the office's keys: keys generate FILE | keys rotate FILE NEW-ID
  bench      load benchmark against a running stack: intake and deadline storm vs bare workflows

Every command takes --help for its flags; each flag can also be set by an environment variable.
`

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stdout, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "all", "api", "worker":
		return serve(ctx, cmd, rest, getenv, stdout)
	case "migrate":
		return migrate(ctx, rest, getenv, stdout)
	case "seed":
		return seed(ctx, rest, getenv, stdout)
	case "calendar":
		return calendarCmd(ctx, rest, getenv, stdout)
	case "import":
		return importCmd(ctx, rest, getenv, stdout)
	case "policies":
		return policies(rest, getenv, stdout)
	case "staff":
		return staffCmd(ctx, rest, getenv, stdout)
	case "token":
		return tokenCmd(ctx, rest, getenv, stdout)
	case "keys":
		return keysCmd(rest, stdout)
	case "bench":
		return benchCmd(ctx, rest, getenv, stdout)
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stdout, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}
