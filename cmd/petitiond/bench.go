package main

import (
	"context"
	"io"

	"github.com/petitions/petitions/internal/bench"
)

// benchCmd measures a running stack: the HTTP intake cycle and a deadline storm, each beside a
// bare workflow of the same shape on the same Temporal server (internal/bench).
func benchCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	return bench.Command(ctx, args, getenv, stdout)
}
