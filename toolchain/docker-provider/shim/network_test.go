package shim

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/docker/docker/api/types/network"
	"github.com/hashicorp/terraform-plugin-sdk/v2/diag"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/hashicorp/terraform-plugin-sdk/v2/terraform"
	"github.com/terraform-providers/terraform-provider-docker/internal/provider"
)

// Run by tests/test_docker_provider_shim.py against the project's engine (DOCKER_HOST).

// networkConfig sets every field the create options and the read cover.
func networkConfig(name string) map[string]interface{} {
	return map[string]interface{}{
		"name":       name,
		"driver":     "bridge",
		"internal":   true,
		"attachable": true,
		"labels": []interface{}{
			map[string]interface{}{"label": "com.example.team", "value": "ops"},
			map[string]interface{}{"label": "com.example.tier", "value": "back"},
		},
		"options": map[string]interface{}{"com.docker.network.bridge.enable_icc": "false"},
		"ipam_config": []interface{}{map[string]interface{}{
			"subnet":      "10.199.251.0/24",
			"ip_range":    "10.199.251.128/25",
			"gateway":     "10.199.251.1",
			"aux_address": map[string]interface{}{"spare": "10.199.251.5"},
		}},
	}
}

// configured returns a docker provider's network resource, prompt when prompt is set, and a
// count of the calls that reached the upstream's waiting loops (read and delete).
func configured(t *testing.T, prompt bool) (*schema.Resource, interface{}, *int) {
	t.Helper()
	host := os.Getenv("DOCKER_HOST")
	if host == "" {
		t.Fatal("DOCKER_HOST is not set: this test needs the project's engine")
	}
	p := provider.New("test")()
	r, loops := p.ResourcesMap["docker_network"], 0
	if prompt {
		loopedRead, loopedDelete := r.ReadContext, r.DeleteContext
		r.ReadContext = func(ctx context.Context, d *schema.ResourceData, m interface{}) diag.Diagnostics {
			loops++
			return loopedRead(ctx, d, m)
		}
		r.DeleteContext = func(ctx context.Context, d *schema.ResourceData, m interface{}) diag.Diagnostics {
			loops++
			return loopedDelete(ctx, d, m)
		}
		withPromptNetworkReads(r)
	}
	raw := terraform.NewResourceConfigRaw(map[string]interface{}{"host": host})
	if diags := p.Configure(context.Background(), raw); diags.HasError() {
		t.Fatalf("configuring the provider: %v", diags)
	}
	return r, p.Meta(), &loops
}

// created creates the network of networkConfig(name) and returns its state's attributes.
func created(t *testing.T, r *schema.Resource, meta interface{}, name string) map[string]string {
	t.Helper()
	d := schema.TestResourceDataRaw(t, r.Schema, networkConfig(name))
	if diags := r.CreateContext(context.Background(), d, meta); diags.HasError() {
		t.Fatalf("create: %v", diags)
	}
	return d.State().Attributes
}

// read reads network id into empty resource data, as a refresh does, and returns its attributes.
func read(t *testing.T, r *schema.Resource, meta interface{}, id string) map[string]string {
	t.Helper()
	d := r.TestResourceData()
	d.SetId(id)
	if diags := r.ReadContext(context.Background(), d, meta); diags.HasError() {
		t.Fatalf("read: %v", diags)
	}
	if d.Id() == "" {
		return nil
	}
	return d.State().Attributes
}

func remove(t *testing.T, r *schema.Resource, meta interface{}, id string) time.Duration {
	t.Helper()
	d := r.TestResourceData()
	d.SetId(id)
	started := time.Now()
	if diags := r.DeleteContext(context.Background(), d, meta); diags.HasError() {
		t.Fatalf("delete: %v", diags)
	}
	return time.Since(started)
}

func differences(want, got map[string]string) []string {
	var out []string
	for key, value := range want {
		if key != "id" && got[key] != value {
			out = append(out, fmt.Sprintf("%s: upstream %q, prompt %q", key, value, got[key]))
		}
	}
	for key, value := range got {
		if _, ok := want[key]; !ok && key != "id" {
			out = append(out, fmt.Sprintf("%s: upstream missing, prompt %q", key, value))
		}
	}
	return out
}

// The prompt create, read and delete leave the state and the engine as the upstream's do:
// a network created by either is read the same by both, and each delete removes it.
func TestPromptNetworkMatchesTheUpstream(t *testing.T) {
	upstream, upstreamMeta, _ := configured(t, false)
	prompt, promptMeta, loops := configured(t, true)
	name := fmt.Sprintf("slipway-shim-test-%d", time.Now().UnixNano())
	engine, err := promptMeta.(*provider.ProviderConfig).MakeClient(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = engine.NetworkRemove(context.Background(), name) })

	byUpstream := created(t, upstream, upstreamMeta, name)
	if diff := differences(byUpstream, read(t, prompt, promptMeta, byUpstream["id"])); diff != nil {
		t.Errorf("the prompt read of the upstream's network differs: %v", diff)
	}
	upstreamView, _, err := engine.NetworkInspectWithRaw(context.Background(), byUpstream["id"], network.InspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	remove(t, upstream, upstreamMeta, byUpstream["id"])

	byPrompt := created(t, prompt, promptMeta, name)
	if diff := differences(byUpstream, byPrompt); diff != nil {
		t.Errorf("the prompt create's state differs from the upstream's: %v", diff)
	}
	if diff := differences(byUpstream, read(t, upstream, upstreamMeta, byPrompt["id"])); diff != nil {
		t.Errorf("the upstream read of the prompt's network differs: %v", diff)
	}
	promptView, _, err := engine.NetworkInspectWithRaw(context.Background(), byPrompt["id"], network.InspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	engineFields := func(n network.Inspect) string {
		return fmt.Sprintf("driver=%s internal=%v attachable=%v ingress=%v ipv6=%v labels=%v options=%v ipam=%+v",
			n.Driver, n.Internal, n.Attachable, n.Ingress, n.EnableIPv6, n.Labels, n.Options, n.IPAM)
	}
	if engineFields(upstreamView) != engineFields(promptView) {
		t.Errorf("the engine holds another network:\nupstream %s\nprompt   %s",
			engineFields(upstreamView), engineFields(promptView))
	}

	took := remove(t, prompt, promptMeta, byPrompt["id"])
	if _, _, err := engine.NetworkInspectWithRaw(context.Background(), byPrompt["id"], network.InspectOptions{}); err == nil {
		t.Errorf("the prompt delete left the network in the engine")
	}
	if got := read(t, prompt, promptMeta, byPrompt["id"]); got != nil {
		t.Errorf("a read of the removed network kept it in the state: %v", got)
	}
	if *loops != 0 {
		t.Errorf("%d prompt calls went through the upstream's waiting loop", *loops)
	}
	t.Logf("prompt delete took %v", took)
}
