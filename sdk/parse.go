package sdk

import (
	"bytes"
	"errors"
	"strconv"
	"sync/atomic"

	"github.com/podplug/podplug/sdk/internal/jsonx"
)

// The UnmarshalJSON methods decode hook inputs with the SDK's
// non-reflective codec. Fields not listed in the ABI are skipped, as ABI
// version 1 requires, and a null reads as the zero value. They are the
// methods encoding/json calls too, so a host-side test may use either.
//
// Each copies its input once and decodes strings as views of that copy,
// which saves an allocation per string. The copy is never modified, so the
// strings stay valid after the call, as ordinary strings do.

// newDecoder returns an aliasing decoder over a private copy of data.
func newDecoder(data []byte) *jsonx.Decoder {
	return jsonx.NewAliasingDecoder(bytes.Clone(data))
}

// UnmarshalJSON decodes a pre_start input.
func (in *PreStart) UnmarshalJSON(data []byte) error {
	*in = PreStart{}
	d := newDecoder(data)
	for obj := d.Object(); obj.Next(); {
		switch string(obj.Key()) {
		case "plugin":
			decodePlugin(d, &in.Plugin)
		case "pod":
			decodePod(d, &in.Pod)
		case "container":
			decodeContainer(d, &in.Container)
		case "containers":
			in.Containers = decodeContainerSummaries(d)
		default:
			d.Skip()
		}
	}
	return inputError("pre_start", d)
}

// UnmarshalJSON decodes a post_stop input.
func (in *PostStop) UnmarshalJSON(data []byte) error {
	*in = PostStop{}
	d := newDecoder(data)
	for obj := d.Object(); obj.Next(); {
		switch string(obj.Key()) {
		case "plugin":
			decodePlugin(d, &in.Plugin)
		case "pod":
			decodePod(d, &in.Pod)
		case "container":
			decodeContainer(d, &in.Container)
		case "exit_code":
			in.ExitCode = int(d.ReadInt())
		case "signal":
			in.Signal = int(d.ReadInt())
		case "oom_killed":
			in.OOMKilled = d.ReadBool()
		case "started_at":
			in.StartedAt = d.ReadString()
		case "finished_at":
			in.FinishedAt = d.ReadString()
		case "run_time_ms":
			in.RunTimeMS = d.ReadInt()
		default:
			d.Skip()
		}
	}
	return inputError("post_stop", d)
}

// UnmarshalJSON decodes an inspect input.
func (in *Inspect) UnmarshalJSON(data []byte) error {
	*in = Inspect{}
	d := newDecoder(data)
	for obj := d.Object(); obj.Next(); {
		switch string(obj.Key()) {
		case "plugin":
			decodePlugin(d, &in.Plugin)
		case "kind":
			in.Kind = d.ReadString()
		case "pod":
			decodePod(d, &in.Pod)
		case "container":
			if d.Peek() == jsonx.Null {
				d.Skip()
				continue
			}
			in.Container = new(Container)
			decodeContainer(d, in.Container)
		default:
			d.Skip()
		}
	}
	return inputError("inspect", d)
}

// UnmarshalJSON decodes a validate_config input.
func (in *ValidateConfig) UnmarshalJSON(data []byte) error {
	*in = ValidateConfig{}
	d := newDecoder(data)
	for obj := d.Object(); obj.Next(); {
		if string(obj.Key()) == "plugin" {
			decodePlugin(d, &in.Plugin)
			continue
		}
		d.Skip()
	}
	return inputError("validate_config", d)
}

// inputError finishes decoding a hook input and names the hook in the error.
func inputError(hook string, d *jsonx.Decoder) error {
	if err := d.End(); err != nil {
		return &InputError{Hook: hook, Err: err}
	}
	return nil
}

// decodeStrings reads an array of strings; null reads as nil.
func decodeStrings(d *jsonx.Decoder) []string {
	if !d.ArrayStart() {
		return nil
	}
	s := make([]string, 0, 4)
	for d.Next() {
		s = append(s, d.ReadString())
	}
	return s
}

// decodeStringMap reads an object of strings. Null and {} read as nil, so
// that the many empty maps of an input cost no allocation.
func decodeStringMap(d *jsonx.Decoder) map[string]string {
	var m map[string]string
	for obj := d.Object(); obj.Next(); {
		if m == nil {
			m = make(map[string]string, 4)
		}
		name := obj.KeyString() // taken before the value overwrites the key bytes
		m[name] = d.ReadString()
	}
	return m
}

// configCache is the config decoded last. The daemon sends a plugin the
// same config on every call, so it is decoded once per instance rather
// than once per call; Config is read-only, so sharing it is safe.
var configCache atomic.Pointer[cachedConfig]

type cachedConfig struct {
	raw    []byte
	config Config
}

func decodeConfig(d *jsonx.Decoder) Config {
	raw := d.ReadRaw()
	if d.Err() != nil {
		return Config{}
	}
	if cached := configCache.Load(); cached != nil && bytes.Equal(cached.raw, raw) {
		return cached.config
	}
	// The cache keeps its own copy, so that it does not keep the whole input.
	own := bytes.Clone(raw)
	sub := jsonx.NewAliasingDecoder(own)
	config := Config{value: sub.ReadValue()}
	if err := sub.End(); err != nil {
		// ReadRaw checks the syntax but not the range of numbers, such as 1e400.
		msg := err.Error()
		var syntaxErr *jsonx.SyntaxError
		if errors.As(err, &syntaxErr) {
			msg = syntaxErr.Msg
		}
		d.Fail("invalid plugin config: " + msg)
		return Config{}
	}
	configCache.Store(&cachedConfig{raw: own, config: config})
	return config
}

func decodePlugin(d *jsonx.Decoder, p *Plugin) {
	for obj := d.Object(); obj.Next(); {
		switch string(obj.Key()) {
		case "name":
			p.Name = d.ReadString()
		case "config":
			p.Config = decodeConfig(d)
		default:
			d.Skip()
		}
	}
}

func decodePod(d *jsonx.Decoder, p *Pod) {
	for obj := d.Object(); obj.Next(); {
		switch string(obj.Key()) {
		case "id":
			p.ID = d.ReadString()
		case "name":
			p.Name = d.ReadString()
		case "labels":
			p.Labels = decodeStringMap(d)
		case "tenant":
			p.Tenant = d.ReadString()
		default:
			d.Skip()
		}
	}
}

func decodeContainer(d *jsonx.Decoder, c *Container) {
	for obj := d.Object(); obj.Next(); {
		switch string(obj.Key()) {
		case "id":
			c.ID = d.ReadString()
		case "name":
			c.Name = d.ReadString()
		case "image":
			c.Image = d.ReadString()
		case "command":
			c.Command = decodeStrings(d)
		case "env":
			c.Env = decodeStrings(d)
		case "labels":
			c.Labels = decodeStringMap(d)
		case "annotations":
			c.Annotations = decodeStringMap(d)
		case "user":
			c.User = d.ReadString()
		case "work_dir":
			c.WorkDir = d.ReadString()
		case "init":
			c.Init = d.ReadBool()
		case "infra":
			c.Infra = d.ReadBool()
		case "mounts":
			c.Mounts = decodeMounts(d)
		case "rlimits":
			c.Rlimits = decodeRlimits(d)
		case "resources":
			decodeResources(d, &c.Resources)
		default:
			d.Skip()
		}
	}
}

func decodeContainerSummaries(d *jsonx.Decoder) []ContainerSummary {
	if !d.ArrayStart() {
		return nil
	}
	s := make([]ContainerSummary, 0, 4)
	for d.Next() {
		s = append(s, ContainerSummary{})
		decodeContainerSummary(d, &s[len(s)-1])
	}
	return s
}

func decodeContainerSummary(d *jsonx.Decoder, c *ContainerSummary) {
	for obj := d.Object(); obj.Next(); {
		switch string(obj.Key()) {
		case "name":
			c.Name = d.ReadString()
		case "image":
			c.Image = d.ReadString()
		case "init":
			c.Init = d.ReadBool()
		default:
			d.Skip()
		}
	}
}

func decodeMounts(d *jsonx.Decoder) []Mount {
	if !d.ArrayStart() {
		return nil
	}
	s := make([]Mount, 0, 2)
	for d.Next() {
		s = append(s, Mount{})
		decodeMount(d, &s[len(s)-1])
	}
	return s
}

func decodeMount(d *jsonx.Decoder, m *Mount) {
	for obj := d.Object(); obj.Next(); {
		switch string(obj.Key()) {
		case "type":
			m.Type = d.ReadString()
		case "source":
			m.Source = d.ReadString()
		case "destination":
			m.Destination = d.ReadString()
		case "read_only":
			m.ReadOnly = d.ReadBool()
		default:
			d.Skip()
		}
	}
}

func decodeRlimits(d *jsonx.Decoder) []Rlimit {
	if !d.ArrayStart() {
		return nil
	}
	s := make([]Rlimit, 0, 2)
	for d.Next() {
		s = append(s, Rlimit{})
		decodeRlimit(d, &s[len(s)-1])
	}
	return s
}

func decodeRlimit(d *jsonx.Decoder, r *Rlimit) {
	for obj := d.Object(); obj.Next(); {
		switch string(obj.Key()) {
		case "type":
			r.Type = d.ReadString()
		case "soft":
			r.Soft = readRlimitValue(d)
		case "hard":
			r.Hard = readRlimitValue(d)
		default:
			d.Skip()
		}
	}
}

// readRlimitValue reads an rlimit value, taking -1 as RlimitInfinity
// because a JSON writer may not carry the full uint64 range.
func readRlimitValue(d *jsonx.Decoder) uint64 {
	offset := d.Offset()
	span := d.ReadNumber()
	if span == nil {
		return 0
	}
	if string(span) == "-1" {
		return RlimitInfinity
	}
	n, err := strconv.ParseUint(string(span), 10, 64)
	if err != nil {
		d.Fail("rlimit value " + string(span) + " at offset " + strconv.Itoa(offset) +
			" is not a uint64 or -1")
	}
	return n
}

func decodeResources(d *jsonx.Decoder, r *Resources) {
	for obj := d.Object(); obj.Next(); {
		switch string(obj.Key()) {
		case "memory_limit":
			r.MemoryLimit = d.ReadInt()
		case "cpu_shares":
			r.CPUShares = d.ReadUint()
		case "pids_limit":
			r.PidsLimit = d.ReadInt()
		default:
			d.Skip()
		}
	}
}
