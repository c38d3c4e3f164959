// Command ferretdb runs FerretDB v1 (MongoDB wire protocol) on its SQLite backend for local development and tests.
//
// It wraps FerretDB's embeddable package instead of `go install`-ing FerretDB's own command: a binary whose main
// module is github.com/FerretDB/FerretDB panics at start-up when built from the module proxy, because the proxy
// has no build/version/version.txt. With another main module path that check is skipped.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	addr := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on (keep it on loopback)")
	dir := flag.String("sqlite-dir", "data", "directory that holds one SQLite file per database")
	level := flag.String("log-level", "info", "log level: debug, info, warn or error")
	flag.Parse()

	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		fatal(fmt.Errorf("bad -log-level: %w", err))
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))

	abs, err := filepath.Abs(*dir)
	if err != nil {
		fatal(err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		fatal(err)
	}

	logger.Info("ferretdb starting", "version", ferretdbVersion(), "listen-addr", *addr, "sqlite-dir", abs)
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *addr},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/", // FerretDB requires an existing directory with a trailing slash
	})
	if err != nil {
		fatal(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := f.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		fatal(err)
	}
	logger.Info("ferretdb stopped")
}

// ferretdbVersion is the FerretDB module version this binary was built with (go.mod pins it).
func ferretdbVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "github.com/FerretDB/FerretDB" {
				return dep.Version
			}
		}
	}
	return "unknown"
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "ferretdb:", err)
	os.Exit(1)
}
