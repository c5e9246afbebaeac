package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/term"

	"github.com/petitions/petitions/internal/auth"
	"github.com/petitions/petitions/internal/config"
)

// stdin is where passwords are read from; tests replace it. Passwords never come from flags
// or arguments, which end up in shell history and in every process listing.
var stdin io.Reader = os.Stdin

const staffUsage = `Usage: petitiond staff <subcommand> [flags]

Subcommands:
  add --id ID --name NAME --role ROLE --unit UNIT [--phone PHONE] [--password-stdin]
             add a staff member; without --password-stdin the account cannot sign in yet
  passwd ID  set the password, read from standard input; signs the member's sessions out
  disable ID stop the account from signing in and revoke all its tokens
  enable ID  allow the account to sign in again (revoked tokens stay revoked)
  list       list the accounts and their sign-in state

Roles: ` + "clerk, handler, leader, supervisor, reviewer, admin" + `.
Each subcommand takes --help and the database flags (DATABASE_URL).
`

const tokenUsage = `Usage: petitiond token <subcommand> [flags]

Subcommands:
  create --staff ID --name WHAT [--role ROLE] [--ttl 8760h]
             issue an API token acting as the staff member; the secret is shown once
  revoke ID  revoke a token (a session's ID ends the whole session)
  list [--staff ID]
             list API tokens and live sessions (never secrets)

Each subcommand takes --help and the database flags (DATABASE_URL).
`

func staffCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	sub, rest, err := subcommand(args, staffUsage, stdout, "add", "passwd", "disable", "enable", "list")
	if err != nil || sub == "" {
		return err
	}
	switch sub {
	case "add":
		return staffAdd(ctx, rest, getenv, stdout)
	case "passwd":
		return staffPasswd(ctx, rest, getenv, stdout)
	case "disable", "enable":
		return staffDisable(ctx, sub, rest, getenv, stdout)
	default:
		return staffList(ctx, rest, getenv, stdout)
	}
}

func tokenCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	sub, rest, err := subcommand(args, tokenUsage, stdout, "create", "revoke", "list")
	if err != nil || sub == "" {
		return err
	}
	switch sub {
	case "create":
		return tokenCreate(ctx, rest, getenv, stdout)
	case "revoke":
		return tokenRevoke(ctx, rest, getenv, stdout)
	default:
		return tokenList(ctx, rest, getenv, stdout)
	}
}

// subcommand picks the subcommand from args; "" with a nil error means help was printed.
func subcommand(args []string, usage string, stdout io.Writer, subs ...string) (string, []string, error) {
	if len(args) == 0 {
		fmt.Fprint(stdout, usage)
		return "", nil, errors.New("no subcommand given")
	}
	switch sub := args[0]; {
	case sub == "help" || sub == "-h" || sub == "--help" || sub == "-help":
		fmt.Fprint(stdout, usage)
		return "", nil, nil
	case slices.Contains(subs, sub):
		return sub, args[1:], nil
	default:
		fmt.Fprint(stdout, usage)
		return "", nil, fmt.Errorf("unknown subcommand %q", sub)
	}
}

// command is one parsed subcommand: its positional arguments and the settings flags given.
type command struct {
	name     string   // "staff add"
	settings []string // the internal/config flags, for withPool
	args     []string
	getenv   func(string) string
	stdout   io.Writer
}

// parse parses a subcommand's own flags (defined by define) together with the settings of
// internal/config, in any order around the positional arguments. The settings are handed to
// config.Parse so that they keep its environment fallbacks, defaults and validation.
func parse(name, synopsis string, args []string, getenv func(string) string, stdout io.Writer,
	define func(*flag.FlagSet)) (command, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned; --help is printed below
	define(fs)
	own := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) { own[f.Name] = true })
	for _, s := range config.Settings {
		fs.String(s.Flag, "", "")
	}
	var positional []string
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stdout, "Usage: petitiond %s\n", synopsis)
			if len(own) > 0 {
				help := flag.NewFlagSet(name, flag.ContinueOnError)
				help.SetOutput(stdout)
				define(help)
				fmt.Fprintf(stdout, "\nFlags of %s:\n", name)
				help.PrintDefaults()
			}
			fmt.Fprintln(stdout)
			_, _, err = config.Parse(name, []string{"--help"}, getenv, stdout)
			return command{}, err
		}
		if err != nil {
			return command{}, fmt.Errorf("%s: %w", name, err)
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	var settings []string
	fs.Visit(func(f *flag.Flag) {
		if !own[f.Name] {
			settings = append(settings, "--"+f.Name+"="+f.Value.String())
		}
	})
	// Invalid settings fail now, before a password is asked for.
	if _, _, err := config.Parse(name, settings, getenv, stdout); err != nil {
		return command{}, err
	}
	return command{name: name, settings: settings, args: positional, getenv: getenv, stdout: stdout}, nil
}

// oneArg returns the single positional argument the command takes.
func (c command) oneArg(what string) (string, error) {
	if len(c.args) != 1 {
		return "", fmt.Errorf("usage: petitiond %s %s", c.name, what)
	}
	return c.args[0], nil
}

// withAuth runs fn with the sign-in service on the register.
func (c command) withAuth(ctx context.Context, fn func(*auth.Service, *pgxpool.Pool) error) error {
	return withPool(ctx, c.name, c.settings, c.getenv, c.stdout, func(pool *pgxpool.Pool) error {
		return fn(auth.New(pool, auth.Config{}), pool)
	})
}

// cliActor is who the audit names for a change made from the command line: the
// operating-system user, the best this side of the database knows.
func cliActor(getenv func(string) string) string {
	if u := getenv("USER"); u != "" {
		return "cli:" + u
	}
	return "cli"
}

func staffAdd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	var a auth.Account
	var withPassword bool
	c, err := parse("staff add", "staff add --id ID --name NAME --role ROLE --unit UNIT [--phone PHONE] [--password-stdin]",
		args, getenv, stdout, func(fs *flag.FlagSet) {
			fs.StringVar(&a.ID, "id", "", "staff ID, e.g. clerk.wang (lower case, digits, '.', '_', '-')")
			fs.StringVar(&a.Name, "name", "", "full name")
			fs.StringVar(&a.Role, "role", "", "clerk, handler, leader, supervisor, reviewer or admin")
			fs.StringVar(&a.Unit, "unit", "", "code of the unit, e.g. petition_office")
			fs.StringVar(&a.Phone, "phone", "", "work phone")
			fs.BoolVar(&withPassword, "password-stdin", false, "read the initial password from standard input (one line)")
		})
	if err != nil {
		return err
	}
	if len(c.args) != 0 {
		return fmt.Errorf("staff add takes no arguments, only flags (got %q)", c.args[0])
	}
	var password string
	if withPassword {
		if password, err = readPassword(stdout, "Password for "+a.ID); err != nil {
			return err
		}
	}
	// The sign-in service audits each change in the transaction that makes it.
	ctx = auth.AsActor(ctx, cliActor(getenv))
	return c.withAuth(ctx, func(svc *auth.Service, pool *pgxpool.Pool) error {
		if err := svc.AddStaff(ctx, a, password); err != nil {
			return err
		}
		if password == "" {
			fmt.Fprintf(stdout, "added %s (%s in %s); no password yet: set one with petitiond staff passwd %s\n", a.ID, a.Role, a.Unit, a.ID)
		} else {
			fmt.Fprintf(stdout, "added %s (%s in %s) with a password\n", a.ID, a.Role, a.Unit)
		}
		return nil
	})
}

func staffPasswd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	c, err := parse("staff passwd", "staff passwd ID < password", args, getenv, stdout, func(*flag.FlagSet) {})
	if err != nil {
		return err
	}
	id, err := c.oneArg("ID")
	if err != nil {
		return err
	}
	password, err := readPassword(stdout, "New password for "+id)
	if err != nil {
		return err
	}
	// The sign-in service audits each change in the transaction that makes it.
	ctx = auth.AsActor(ctx, cliActor(getenv))
	return c.withAuth(ctx, func(svc *auth.Service, pool *pgxpool.Pool) error {
		if err := svc.SetPassword(ctx, id, password); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password of %s set; its sessions are signed out and any lock-out lifted\n", id)
		return nil
	})
}

func staffDisable(ctx context.Context, sub string, args []string, getenv func(string) string, stdout io.Writer) error {
	c, err := parse("staff "+sub, "staff "+sub+" ID", args, getenv, stdout, func(*flag.FlagSet) {})
	if err != nil {
		return err
	}
	id, err := c.oneArg("ID")
	if err != nil {
		return err
	}
	disable := sub == "disable"
	// The sign-in service audits each change in the transaction that makes it.
	ctx = auth.AsActor(ctx, cliActor(getenv))
	return c.withAuth(ctx, func(svc *auth.Service, pool *pgxpool.Pool) error {
		if err := svc.SetDisabled(ctx, id, disable); err != nil {
			return err
		}
		if disable {
			fmt.Fprintf(stdout, "%s disabled; all its tokens are revoked\n", id)
		} else {
			fmt.Fprintf(stdout, "%s enabled; it signs in anew (revoked tokens stay revoked)\n", id)
		}
		return nil
	})
}

func staffList(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	c, err := parse("staff list", "staff list", args, getenv, stdout, func(*flag.FlagSet) {})
	if err != nil {
		return err
	}
	return c.withAuth(ctx, func(svc *auth.Service, _ *pgxpool.Pool) error {
		list, err := svc.ListStaff(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		// The name comes last: tabwriter counts a Chinese character as one column, the
		// terminal shows two, and a last column needs no alignment.
		fmt.Fprintln(w, "ID\tROLE\tUNIT\tPASSWORD\tDISABLED\tLOCKED UNTIL\tNAME")
		for _, a := range list {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.Role, a.Unit,
				yesNo(a.HasPassword), yesNo(a.Disabled), when(a.LockedUntil), a.Name)
		}
		return w.Flush()
	})
}

func tokenCreate(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	var staffID, name, role string
	var ttl time.Duration
	c, err := parse("token create", "token create --staff ID --name WHAT [--role ROLE] [--ttl 8760h]", args, getenv, stdout,
		func(fs *flag.FlagSet) {
			fs.StringVar(&staffID, "staff", "", "staff ID the token acts as, e.g. hotline.feed")
			fs.StringVar(&name, "name", "", "what the token is for, e.g. \"12345 hotline feed\"")
			fs.StringVar(&role, "role", "", "role of the token; must be the staff member's (default: it)")
			fs.DurationVar(&ttl, "ttl", auth.DefaultAPITokenTTL, "lifetime, at most 17520h (two years)")
		})
	if err != nil {
		return err
	}
	if len(c.args) != 0 {
		return fmt.Errorf("token create takes no arguments, only flags (got %q)", c.args[0])
	}
	if staffID == "" {
		return errors.New("token create: --staff is required")
	}
	// The sign-in service audits each change in the transaction that makes it.
	ctx = auth.AsActor(ctx, cliActor(getenv))
	return c.withAuth(ctx, func(svc *auth.Service, pool *pgxpool.Pool) error {
		secret, info, err := svc.CreateAPIToken(ctx, staffID, name, role, ttl)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "API token %s for %s (%s), expires %s:\n\n%s\n\n", info.ID, info.StaffID, info.Role,
			info.ExpiresAt.Format(timeLayout), secret)
		fmt.Fprintln(stdout, "This secret cannot be shown again: store it in the integration's secret store now.")
		fmt.Fprintf(stdout, "Send it as \"Authorization: Bearer <secret>\"; revoke with petitiond token revoke %s.\n", info.ID)
		return nil
	})
}

func tokenRevoke(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	c, err := parse("token revoke", "token revoke ID", args, getenv, stdout, func(*flag.FlagSet) {})
	if err != nil {
		return err
	}
	id, err := c.oneArg("ID")
	if err != nil {
		return err
	}
	// The sign-in service audits each change in the transaction that makes it.
	ctx = auth.AsActor(ctx, cliActor(getenv))
	return c.withAuth(ctx, func(svc *auth.Service, pool *pgxpool.Pool) error {
		if err := svc.RevokeToken(ctx, id); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "token %s revoked\n", id)
		return nil
	})
}

func tokenList(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	var staffID string
	c, err := parse("token list", "token list [--staff ID]", args, getenv, stdout, func(fs *flag.FlagSet) {
		fs.StringVar(&staffID, "staff", "", "only this staff member's tokens")
	})
	if err != nil {
		return err
	}
	if len(c.args) != 0 {
		return fmt.Errorf("token list takes no arguments (use --staff %s)", c.args[0])
	}
	return c.withAuth(ctx, func(svc *auth.Service, _ *pgxpool.Pool) error {
		list, err := svc.ListTokens(ctx, staffID)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tKIND\tSTAFF\tROLE\tVIA\tCREATED\tEXPIRES\tLAST USED\tREVOKED\tNAME")
		for _, t := range list {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Kind, t.StaffID, t.Role, t.Via,
				t.CreatedAt.Format(timeLayout), t.ExpiresAt.Format(timeLayout), when(t.LastUsedAt), when(t.RevokedAt), dash(t.Name))
		}
		return w.Flush()
	})
}

// readPassword reads one line from stdin: without echo after a prompt (twice) when stdin is a
// terminal, otherwise as piped in.
func readPassword(stdout io.Writer, prompt string) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stdout, prompt+": ")
		first, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stdout)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		fmt.Fprint(stdout, "Again: ")
		second, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stdout)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if string(first) != string(second) {
			return "", errors.New("the passwords differ")
		}
		if len(first) == 0 {
			return "", errors.New("no password given")
		}
		return string(first), nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password on standard input (one line expected)")
	}
	return line, nil
}

const timeLayout = "2006-01-02 15:04 MST"

func when(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format(timeLayout)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
