package main

import (
	"reflect"
	"testing"

	"github.com/spf13/pflag"

	"github.com/ingressguard/ingressguard/convert"
)

func TestBindSettings(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want func(*convert.Settings)
		err  string
	}{{
		name: "defaults of SPEC section 1",
		want: func(*convert.Settings) {},
	}, {
		name: "every flag",
		args: []string{
			"--ingress-class=gw", "--ingress-controller-mode=DEFAULT", "--gateway-namespace=edge",
			"--gateway-selector=app=gw,tier=edge", "--domain-suffix=example.internal", "--ingress-service=edge-gw",
			"--host-ownership=false", "--certificate-use=strict",
		},
		want: func(s *convert.Settings) {
			*s = convert.Settings{
				IngressClass: "gw", Mode: convert.ModeDefault, GatewayNamespace: "edge",
				GatewaySelector: map[string]string{"app": "gw", "tier": "edge"},
				DomainSuffix:    "example.internal", IngressService: "edge-gw",
				HostOwnership: false, CertificateUse: convert.CertificateUseStrict,
			}
		},
	}, {
		name: "mode in lower case",
		args: []string{"--ingress-controller-mode", "default"},
		want: func(s *convert.Settings) { s.Mode = convert.ModeDefault },
	}, {
		name: "unknown mode, refused by Settings.Check",
		args: []string{"--ingress-controller-mode", "off"},
		want: func(s *convert.Settings) { s.Mode = "OFF" },
	}, {
		name: "certificate use in upper case",
		args: []string{"--certificate-use", "STRICT"},
		want: func(s *convert.Settings) { s.CertificateUse = convert.CertificateUseStrict },
	}, {
		name: "selector without value",
		args: []string{"--gateway-selector", "istio"},
		err:  `invalid argument "istio" for "--gateway-selector" flag: gateway selector "istio": `,
	}, {
		name: "empty selector",
		args: []string{"--gateway-selector="},
		err:  `invalid argument "" for "--gateway-selector" flag: gateway selector "": must name at least one label, such as istio=ingressgateway`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := convert.DefaultSettings()
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			bindSettings(fs, &got)
			err := fs.Parse(tt.args)
			if tt.err != "" {
				if err == nil || len(err.Error()) < len(tt.err) || err.Error()[:len(tt.err)] != tt.err {
					t.Fatalf("error = %v, want one starting with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := convert.DefaultSettings()
			tt.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("settings = %+v, want %+v", got, want)
			}
		})
	}
}

func TestSettingsFlagDefaultsInHelp(t *testing.T) {
	s := convert.DefaultSettings()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	bindSettings(fs, &s)
	for name, want := range map[string]string{
		"ingress-class": "istio", "ingress-controller-mode": "STRICT", "gateway-namespace": "istio-system",
		"gateway-selector": "istio=ingressgateway", "domain-suffix": "cluster.local", "ingress-service": "istio-ingressgateway",
		"host-ownership": "true", "certificate-use": "permissive",
	} {
		if got := fs.Lookup(name).DefValue; got != want {
			t.Errorf("--%s default shown as %q, want %q", name, got, want)
		}
	}
}
