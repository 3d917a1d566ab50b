package policy

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestShippedPolicyDecisions(t *testing.T) {
	e := loadEngine(t, Options{Dir: shippedDir})

	tests := []struct {
		name        string
		input       Input
		wantAllowed bool
		wantCodes   []string
		// wantMessage, when set, must be the message of the first reason.
		wantMessage string
	}{
		{
			name:        "own pod start",
			input:       Input{Operation: OpPodStart, Subject: alice(), Target: pod("web", "blue")},
			wantAllowed: true,
		},
		{
			name:        "other tenant pod inspect",
			input:       Input{Operation: OpPodInspect, Subject: alice(), Target: pod("db", "red")},
			wantCodes:   []string{"tenant_isolation"},
			wantMessage: "pod not found",
		},
		{
			name:        "other tenant pod stop",
			input:       Input{Operation: OpPodStop, Subject: alice(), Target: pod("db", "red")},
			wantCodes:   []string{"tenant_isolation"},
			wantMessage: "pod not found",
		},
		{
			name:        "admin stops other tenant pod",
			input:       Input{Operation: OpPodStop, Subject: root(), Target: pod("db", "red")},
			wantAllowed: true,
		},
		{
			name: "user without tenant",
			input: Input{Operation: OpPodList,
				Subject: Subject{UID: 1003, User: "mallory"}},
			wantCodes: []string{"tenant_isolation"},
		},
		{
			name:      "user installs plugin",
			input:     Input{Operation: OpPluginInstall, Subject: alice()},
			wantCodes: []string{"admin_required"},
		},
		{
			name:        "admin installs plugin",
			input:       Input{Operation: OpPluginInstall, Subject: root()},
			wantAllowed: true,
		},
		{
			name:      "unknown operation",
			input:     Input{Operation: "pod.teleport", Subject: alice()},
			wantCodes: []string{"unknown_operation"},
		},
		{
			name:        "clean pod create",
			input:       createInput(5, nil),
			wantAllowed: true,
		},
		{
			name: "privileged container",
			input: createInput(2, func(in *Input) {
				in.Spec.Containers[1].Privileged = true
			}),
			wantCodes:   []string{"privileged_container"},
			wantMessage: `container "app1": privileged is not allowed`,
		},
		{
			name: "host pid namespace",
			input: createInput(1, func(in *Input) {
				in.Spec.Containers[0].HostNamespaces = []string{"pid"}
			}),
			wantCodes: []string{"host_namespace"},
		},
		{
			name: "host network pod",
			input: createInput(1, func(in *Input) {
				in.Spec.Pod.Network = "host"
			}),
			wantCodes: []string{"host_namespace"},
		},
		{
			name: "added sys_admin capability",
			input: createInput(1, func(in *Input) {
				in.Spec.Containers[0].AddedCapabilities = []string{"CAP_SYS_ADMIN"}
			}),
			wantCodes: []string{"capability_not_allowed"},
			wantMessage: `container "app0": added_capabilities contains "CAP_SYS_ADMIN", ` +
				"which is not in the safe capabilities",
		},
		{
			name: "bind mount of etc",
			input: createInput(1, func(in *Input) {
				in.Spec.Containers[0].Mounts[0].Source = "/etc"
			}),
			wantCodes: []string{"host_path_not_allowed"},
		},
		{
			name: "bind mount escaping allowed path",
			input: createInput(1, func(in *Input) {
				in.Spec.Containers[0].Mounts[0].Source = "/srv/podplug/../../etc"
			}),
			wantCodes: []string{"host_path_not_allowed"},
		},
		{
			name: "one reason per violation",
			input: createInput(2, func(in *Input) {
				in.Spec.Containers[0].Privileged = true
				in.Spec.Containers[1].HostNamespaces = []string{"net", "ipc"}
			}),
			wantCodes: []string{"host_namespace", "host_namespace", "privileged_container"},
		},
		{
			name: "pod quota reached",
			input: createInput(1, func(in *Input) {
				in.Context.TenantPods = 10
			}),
			wantCodes:   []string{"quota_pods"},
			wantMessage: "the tenant has 10 pods and its quota is 10",
		},
		{
			name: "container quota exceeded",
			input: createInput(5, func(in *Input) {
				in.Context.TenantContainers = 38
			}),
			wantCodes: []string{"quota_containers"},
		},
		{
			name: "usage missing",
			input: createInput(1, func(in *Input) {
				in.Context = nil
			}),
			wantCodes: []string{"quota_unknown"},
		},
		{
			name: "memory limit missing",
			input: createInput(1, func(in *Input) {
				in.Spec.Pod.MemoryBytes = 0
			}),
			wantCodes:   []string{"limits_required"},
			wantMessage: "pod: memory_bytes is required and must be greater than 0",
		},
		{
			name: "cpu limit over quota",
			input: createInput(1, func(in *Input) {
				in.Spec.Pod.CPUs = 2.5
			}),
			wantCodes:   []string{"quota_limits"},
			wantMessage: "pod: cpus 2.5 exceeds the quota of 2",
		},
		{
			name: "container create joins own pod",
			input: createInput(1, func(in *Input) {
				in.Operation = OpContainerCreate
				in.Target = pod("web", "blue")
			}),
			wantAllowed: true,
		},
		{
			name: "container create in other tenant pod",
			input: createInput(1, func(in *Input) {
				in.Operation = OpContainerCreate
				in.Target = pod("db", "red")
			}),
			wantCodes: []string{"tenant_isolation"},
		},
		{
			name: "image outside allowlist",
			input: createInput(1, func(in *Input) {
				in.Spec.Containers[0].Image = "docker.io/library/alpine:3"
			}),
			wantCodes: []string{"image_not_allowed"},
			wantMessage: `container "app0": image "docker.io/library/alpine:3" ` +
				"is not in the allowed images",
		},
		{
			name: "admin runs privileged without limits",
			input: createInput(1, func(in *Input) {
				in.Subject = root()
				in.Spec.Containers[0].Privileged = true
				in.Spec.Pod.MemoryBytes = 0
				in.Context = nil
			}),
			wantAllowed: true,
		},
		{
			name: "admin held to image allowlist",
			input: createInput(1, func(in *Input) {
				in.Subject = root()
				in.Spec.Containers[0].Image = "docker.io/library/alpine"
			}),
			wantCodes: []string{"image_not_allowed"},
		},
		{
			name: "start with plugin-changed spec",
			input: createInput(1, func(in *Input) {
				in.Operation = OpPodStart
				in.Target = pod("web", "blue")
				in.Spec.Containers[0].AddedCapabilities = []string{"NET_ADMIN"}
			}),
			wantCodes: []string{"capability_not_allowed"},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := e.Decide(context.Background(), tt.input)

			if d.Allowed != tt.wantAllowed {
				t.Errorf("Allowed = %v, want %v (reasons %v)", d.Allowed, tt.wantAllowed, d.Reasons)
			}
			if got := codes(d); !sameCodes(got, tt.wantCodes) {
				t.Errorf("codes = %v, want %v (reasons %v)", got, tt.wantCodes, d.Reasons)
			}
			if tt.wantMessage != "" && len(d.Reasons) > 0 && d.Reasons[0].Message != tt.wantMessage {
				t.Errorf("message = %q, want %q", d.Reasons[0].Message, tt.wantMessage)
			}
			if d.Duration <= 0 {
				t.Errorf("Duration = %v, want > 0", d.Duration)
			}
		})
	}
}

func TestTenantIsolationHidesTarget(t *testing.T) {
	e := loadEngine(t, Options{Dir: shippedDir})
	d := e.Decide(context.Background(), Input{
		Operation: OpContainerLogs,
		Subject:   alice(),
		Target: &Target{Kind: "container", Name: "secret-db", ID: "c0ffee",
			Owner: &Owner{UID: 2000, Tenant: "red"}},
	})

	if !d.Hidden() {
		t.Errorf("Hidden() = false, want true (reasons %v)", d.Reasons)
	}
	for _, r := range d.Reasons {
		for _, leak := range []string{"secret-db", "c0ffee", "red"} {
			if strings.Contains(r.Message, leak) {
				t.Errorf("reason %q names %q", r.Message, leak)
			}
		}
	}
}

func TestDecisionErr(t *testing.T) {
	e := loadEngine(t, Options{Dir: shippedDir})

	allowed := e.Decide(context.Background(), Input{Operation: OpSystemInfo, Subject: alice()})
	if err := allowed.Err(OpSystemInfo); err != nil {
		t.Errorf("Err() of an allowed decision = %v, want nil", err)
	}

	denied := e.Decide(context.Background(), Input{Operation: OpPolicyReload, Subject: alice()})
	err := denied.Err(OpPolicyReload)
	if !errors.Is(err, ErrDenied) {
		t.Fatalf("Err() = %v, want ErrDenied", err)
	}
	want := "policy.reload: denied by policy: admin_required: policy.reload changes objects " +
		"shared by all tenants and requires an administrator"
	if err.Error() != want {
		t.Errorf("Err() = %q, want %q", err, want)
	}
}

func TestVisibleFiltersListing(t *testing.T) {
	e := loadEngine(t, Options{Dir: shippedDir})
	targets := []Target{*pod("a", "blue"), *pod("b", "red"), *pod("c", "blue"),
		{Kind: "pod", Name: "orphan"}}

	tests := []struct {
		name    string
		subject Subject
		want    []bool
	}{
		{name: "tenant sees own pods", subject: alice(), want: []bool{true, false, true, false}},
		{name: "admin sees all", subject: root(), want: []bool{true, true, true, true}},
		{name: "user without tenant sees none", subject: Subject{UID: 5, User: "eve"},
			want: []bool{false, false, false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.Visible(context.Background(),
				Input{Operation: OpPodList, Subject: tt.subject}, targets)
			if err != nil {
				t.Fatalf("Visible: %v", err)
			}
			for i := range tt.want {
				if got[i] != tt.want[i] {
					t.Errorf("visible[%d] (%s) = %v, want %v", i, targets[i].Name, got[i], tt.want[i])
				}
			}
		})
	}
}
