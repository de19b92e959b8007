package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ingressguard/ingressguard/convert"
	"github.com/ingressguard/ingressguard/manifest"
)

// conversion is what convert and check share: the flags, reading the
// input and converting it.
type conversion struct {
	settings convert.Settings
	input    inputOptions
}

func newConversion(cmd *cobra.Command) *conversion {
	c := &conversion{settings: convert.DefaultSettings()}
	c.input.bind(cmd.Flags())
	bindSettings(cmd.Flags(), &c.settings)
	return c
}

// run reads the input, prints the notes to stderr and converts.
func (c *conversion) run(cmd *cobra.Command) (*input, *convert.Result, error) {
	if err := c.settings.Check(); err != nil {
		return nil, nil, err
	}
	in, err := c.input.load(cmd.Context(), cmd.InOrStdin(), c.settings.GatewayNamespace)
	if err != nil {
		return nil, nil, err
	}
	snap := manifest.SnapshotOf(in.docs, c.settings.GatewayNamespace)
	res := c.settings.Convert(snap)
	notes := append(slices.Clone(in.notes), notOurs(c.settings, in, snap, res.Ignored, c.input.readsCluster())...)
	for _, n := range notes {
		if _, err := fmt.Fprintln(cmd.ErrOrStderr(), "note: "+n); err != nil {
			return nil, nil, err
		}
	}
	return in, res, nil
}

// formatFlag validates an output format before any input is read.
func formatFlag(format string) error {
	if !slices.Contains(manifest.Formats, format) {
		return fmt.Errorf("unknown output format %q: use %s", format, strings.Join(manifest.Formats, " or "))
	}
	return nil
}
