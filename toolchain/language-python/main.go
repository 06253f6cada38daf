// Command pulumi-language-python is Slipway's Python language host: the plugin the bare
// Pulumi CLI starts for `pulumi preview` / `up` (and the refresh / destroy that run the
// program). It speaks the LanguageRuntime protocol of the CLI it is built with (sdk/v3 at
// the CLI's version), resolves Pulumi.yaml's `runtime.options` (virtualenv, toolchain) with
// the SDK's own python/toolchain package, and runs the program through the SDK's
// pulumi-language-python-exec script installed next to it. Why our own: docs/toolchain.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
)

// execName is the SDK's program runner, installed next to this binary by scripts/toolchain.sh.
const execName = "pulumi-language-python-exec"

// version is what GetPluginInfo answers; set with -ldflags "-X main.version=...".
var version = "0.0.0-dev"

func main() {
	tracing := flag.String("tracing", "", "Zipkin-compatible endpoint passed on to the program")
	flag.Parse()
	logging.InitLogging(false, 0, false)

	self, err := os.Executable()
	if err != nil {
		cmdutil.Exit(fmt.Errorf("finding this executable: %w", err))
	}
	execPath := filepath.Join(filepath.Dir(self), execName)
	if _, err := os.Stat(execPath); err != nil {
		cmdutil.Exit(fmt.Errorf("%s is missing next to %s (%w); run 'make tools' again", execName, self, err))
	}

	var engine string
	if args := flag.Args(); len(args) > 0 {
		engine = args[len(args)-1] // the CLI passes the engine's address last
	}

	ctx, cancel := context.WithCancel(context.Background())
	stop := make(chan bool)
	go func() { <-ctx.Done(); close(stop) }()
	if engine != "" {
		// Stop serving when the engine that started us is gone.
		if err := rpcutil.Healthcheck(ctx, engine, 5*time.Minute, cancel); err != nil {
			cmdutil.Exit(fmt.Errorf("starting the engine health check: %w", err))
		}
	}

	host := &languageHost{exec: execPath, engine: engine, tracing: *tracing}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: stop,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
		Options: rpcutil.OpenTracingServerInterceptorOptions(nil),
	})
	if err != nil {
		cmdutil.Exit(fmt.Errorf("starting the language host's RPC server: %w", err))
	}
	fmt.Printf("%d\n", handle.Port) // the CLI reads the port from our first line
	if err := <-handle.Done; err != nil {
		cmdutil.Exit(fmt.Errorf("language host stopped serving: %w", err))
	}
}
