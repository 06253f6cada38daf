package shim

import (
	"context"
	"fmt"

	"github.com/docker/docker/api/types/network"
	"github.com/hashicorp/terraform-plugin-sdk/v2/diag"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/terraform-providers/terraform-provider-docker/internal/provider"
)

// The upstream reads a docker_network through a retry loop that sleeps a fixed 2 s
// (networkReadRefreshDelay) before its first inspect, on create and on every read: each
// cold `up`, refresh and drift check waited 2 s per network for fields that a local
// network has at once. The loop waits for one case, an overlay network whose options are
// not exposed yet; that case (and any read that cannot decide) still goes through it.
// Delete sleeps 2 s the same way before its first remove, which fails only while
// containers are still attached: a remove that fails goes through the upstream's loop.
// docs/full-up.md "What a Pulumi run cannot go below" has the measurement.
func withPromptNetworkReads(r *schema.Resource) {
	loopedRead := r.ReadContext
	read := func(ctx context.Context, d *schema.ResourceData, meta interface{}) diag.Diagnostics {
		if settled, diags := readNetworkOnce(ctx, d, meta, r); settled {
			return diags
		}
		return loopedRead(ctx, d, meta)
	}
	r.ReadContext = read
	loopedDelete := r.DeleteContext
	r.DeleteContext = func(ctx context.Context, d *schema.ResourceData, meta interface{}) diag.Diagnostics {
		client, err := meta.(*provider.ProviderConfig).MakeClient(ctx, d)
		if err == nil && client.NetworkRemove(ctx, d.Id()) == nil {
			d.SetId("")
			return nil
		}
		return loopedDelete(ctx, d, meta)
	}
	r.CreateContext = func(ctx context.Context, d *schema.ResourceData, meta interface{}) diag.Diagnostics {
		client, err := meta.(*provider.ProviderConfig).MakeClient(ctx, d)
		if err != nil {
			return diag.FromErr(fmt.Errorf("failed to create Docker client: %w", err))
		}
		created, err := client.NetworkCreate(ctx, d.Get("name").(string), networkCreateOptions(d))
		if err != nil {
			return diag.Errorf("Unable to create network: %s", err)
		}
		d.SetId(created.ID)
		return read(ctx, d, meta)
	}
}

// networkCreateOptions are the create options the upstream derives from the same fields.
func networkCreateOptions(d *schema.ResourceData) network.CreateOptions {
	opts := network.CreateOptions{}
	if v, ok := d.GetOk("labels"); ok {
		opts.Labels = map[string]string{}
		for _, item := range v.(*schema.Set).List() {
			label := item.(map[string]interface{})
			opts.Labels[label["label"].(string)] = label["value"].(string)
		}
	}
	if v, ok := d.GetOk("driver"); ok {
		opts.Driver = v.(string)
	}
	if v, ok := d.GetOk("options"); ok {
		opts.Options = stringMap(v.(map[string]interface{}))
	}
	if v, ok := d.GetOk("internal"); ok {
		opts.Internal = v.(bool)
	}
	if v, ok := d.GetOk("attachable"); ok {
		opts.Attachable = v.(bool)
	}
	if v, ok := d.GetOk("ingress"); ok {
		opts.Ingress = v.(bool)
	}
	if v, ok := d.GetOk("ipv6"); ok {
		enabled := v.(bool)
		opts.EnableIPv6 = &enabled
	}
	ipam, ipamSet := &network.IPAM{}, false
	if v, ok := d.GetOk("ipam_driver"); ok {
		ipam.Driver, ipamSet = v.(string), true
	}
	if v, ok := d.GetOk("ipam_config"); ok {
		for _, item := range v.(*schema.Set).List() {
			raw := item.(map[string]interface{})
			config := network.IPAMConfig{
				Subnet:     raw["subnet"].(string),
				IPRange:    raw["ip_range"].(string),
				Gateway:    raw["gateway"].(string),
				AuxAddress: stringMap(raw["aux_address"].(map[string]interface{})),
			}
			ipam.Config = append(ipam.Config, config)
		}
		ipamSet = true
	}
	if v, ok := d.GetOk("ipam_options"); ok {
		ipam.Options, ipamSet = stringMap(v.(map[string]interface{})), true
	}
	if ipamSet {
		opts.IPAM = ipam
	}
	return opts
}

// readNetworkOnce sets the fields the upstream's read sets, from one inspect. settled is
// false when the upstream's loop must decide: an overlay network without its options yet.
func readNetworkOnce(
	ctx context.Context, d *schema.ResourceData, meta interface{}, r *schema.Resource,
) (settled bool, diags diag.Diagnostics) {
	client, err := meta.(*provider.ProviderConfig).MakeClient(ctx, d)
	if err != nil {
		return true, diag.FromErr(fmt.Errorf("failed to create Docker client: %w", err))
	}
	found, _, err := client.NetworkInspectWithRaw(ctx, d.Id(), network.InspectOptions{})
	if err != nil {
		d.SetId("") // gone: removed from the state, as the upstream does
		return true, nil
	}
	if found.Scope == "overlay" && len(found.Options) == 0 {
		return false, nil
	}
	labels := []interface{}{}
	for name, value := range found.Labels {
		labels = append(labels, map[string]interface{}{"label": name, "value": value})
	}
	ipamConfigs := []interface{}{}
	for _, config := range found.IPAM.Config {
		item := map[string]interface{}{}
		for key, value := range map[string]string{
			"subnet": config.Subnet, "ip_range": config.IPRange, "gateway": config.Gateway,
		} {
			if value != "" {
				item[key] = value
			}
		}
		if len(config.AuxAddress) > 0 {
			aux := map[string]interface{}{}
			for key, value := range config.AuxAddress {
				aux[key] = value
			}
			item["aux_address"] = aux
		}
		ipamConfigs = append(ipamConfigs, item)
	}
	ipamElem := r.Schema["ipam_config"].Elem.(*schema.Resource)
	fields := map[string]interface{}{
		"name":         found.Name,
		"labels":       labels,
		"driver":       found.Driver,
		"internal":     found.Internal,
		"attachable":   found.Attachable,
		"ingress":      found.Ingress,
		"ipv6":         found.EnableIPv6,
		"ipam_driver":  found.IPAM.Driver,
		"ipam_options": found.IPAM.Options,
		"scope":        found.Scope,
		"options":      found.Options,
		"ipam_config":  schema.NewSet(schema.HashResource(ipamElem), ipamConfigs),
	}
	for name, value := range fields {
		if err := d.Set(name, value); err != nil {
			return true, diag.Errorf("reading network %s: setting %s: %s", d.Id(), name, err)
		}
	}
	return true, nil
}

func stringMap(in map[string]interface{}) map[string]string {
	out := make(map[string]string, len(in))
	for key, value := range in {
		out[key] = value.(string)
	}
	return out
}
