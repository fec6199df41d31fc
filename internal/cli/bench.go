package cli

import "context"

// benchCommands are the `tandem bench` subcommands.
func benchCommands() map[string]command {
	return map[string]command{
		"turns": {"drive the REST channel with concurrent customers; report turns/s, latency, memory", runBenchTurns},
	}
}

func runBench(ctx context.Context, env Env, args []string) error {
	return dispatch(ctx, env, "tandem bench", benchCommands(), args)
}
