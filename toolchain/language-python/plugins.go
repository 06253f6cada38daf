package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
)

// listPlugins prints, as JSON, the resource plugin of every installed distribution that has
// a top-level package with a pulumi-plugin.json (how Pulumi's Python SDKs name their plugin).
const listPlugins = `
import importlib.metadata as md, json
found = {}
for dist in md.distributions():
    for path in dist.files or []:
        if path.name != "pulumi-plugin.json" or len(path.parts) != 2:
            continue
        meta = json.loads(dist.locate_file(path).read_text())
        if meta.get("resource"):
            name = meta.get("name") or dist.metadata["Name"].removeprefix("pulumi-").removeprefix("pulumi_")
            found[name] = {"name": name, "version": meta.get("version") or dist.version,
                           "server": meta.get("server") or ""}
print(json.dumps(sorted(found.values(), key=lambda p: p["name"])))
`

type pluginInfo struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Server  string `json:"server"`
}

// installedPlugins runs listPlugins with the program's python.
func installedPlugins(ctx context.Context, tc toolchain.Toolchain) ([]*pulumirpc.PackageDependency, error) {
	cmd, err := tc.Command(ctx, "-c", listPlugins)
	if err != nil {
		return nil, fmt.Errorf("finding python: %w", err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("listing the Pulumi packages installed for %s: %w\n%s", cmd.Path, err, stderr.String())
	}
	var found []pluginInfo
	if err := json.Unmarshal(out, &found); err != nil {
		return nil, fmt.Errorf("reading the Pulumi packages installed for %s: %w", cmd.Path, err)
	}
	deps := make([]*pulumirpc.PackageDependency, 0, len(found))
	for _, p := range found {
		deps = append(deps, &pulumirpc.PackageDependency{
			Kind: "resource", Name: p.Name, Version: p.Version, Server: p.Server,
		})
	}
	return deps, nil
}
