package main

import (
	"fmt"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
)

// resolveToolchain turns the program's Pulumi.yaml `runtime.options`, which the CLI sends in
// ProgramInfo.options, into the SDK's Python toolchain (which python, which virtualenv).
func resolveToolchain(info *pulumirpc.ProgramInfo) (toolchain.Toolchain, error) {
	if info == nil {
		return nil, fmt.Errorf("the CLI sent no program info: this language host needs Pulumi CLI v3.100 or newer")
	}
	opts := toolchain.PythonOptions{Root: info.GetRootDirectory(), ProgramDir: info.GetProgramDirectory()}
	for name, value := range info.GetOptions().AsMap() {
		text, ok := value.(string)
		if !ok {
			return nil, fmt.Errorf("Pulumi.yaml runtime option %q must be a string, not %v", name, value)
		}
		switch name {
		case "virtualenv":
			opts.Virtualenv = text
		case "toolchain":
			if err := setToolchain(&opts, text); err != nil {
				return nil, err
			}
		case "typechecker":
			if text != "" {
				return nil, fmt.Errorf("Pulumi.yaml runtime option typechecker=%q is not supported by "+
					"Slipway's language host; remove it and run the type checker yourself", text)
			}
		default:
			return nil, fmt.Errorf("unknown Pulumi.yaml runtime option %q for python "+
				"(supported: virtualenv, toolchain)", name)
		}
	}
	return toolchain.ResolveToolchain(opts)
}

// setToolchain sets the package manager named by Pulumi.yaml's `toolchain` option.
func setToolchain(opts *toolchain.PythonOptions, name string) error {
	switch name {
	case "", "auto":
		opts.Toolchain = toolchain.Auto
	case "pip":
		opts.Toolchain = toolchain.Pip
	case "poetry":
		opts.Toolchain = toolchain.Poetry
	case "uv":
		opts.Toolchain = toolchain.Uv
	default:
		return fmt.Errorf("Pulumi.yaml runtime option toolchain=%q is unknown (use pip, poetry or uv)", name)
	}
	return nil
}
