package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"sort"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

// fullInput sets every field, so that no omitempty or nil case hides a
// difference between the hand-built value and the JSON encoding.
func fullInput() Input {
	in := createInput(2, nil)
	in.Operation = OpContainerExec
	in.Target = &Target{Kind: "container", Name: "app0", ID: "abc",
		Owner: &Owner{UID: 1001, Tenant: "blue"}, Labels: map[string]string{"a": "b"},
		State: "Running"}
	in.Spec.Pod.Labels = map[string]string{"tier": "web"}
	for i := range in.Spec.Containers {
		in.Spec.Containers[i].AddedCapabilities = []string{"CAP_NET_RAW"}
		in.Spec.Containers[i].HostNamespaces = []string{"net"}
	}
	in.Spec.Containers[0].Privileged = true
	in.Spec.Containers[0].Mounts[0].ReadOnly = true
	in.Request = &Request{Signal: "SIGTERM", Timeout: 10, Force: true,
		Image: "localhost/busybox", Command: []string{"sh", "-c", "true"}, Env: []string{"A=1"}}
	return in
}

func TestInputValueMatchesJSON(t *testing.T) {
	in := fullInput()

	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var document any
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.UseNumber()
	if err := decoder.Decode(&document); err != nil {
		t.Fatal(err)
	}
	want, err := ast.InterfaceToValue(document)
	if err != nil {
		t.Fatal(err)
	}

	got := in.value(true)
	if got.Compare(want) != 0 {
		t.Errorf("hand-built input differs from its JSON form\n got: %v\nwant: %v", got, want)
	}
}

func TestInputValueNilFields(t *testing.T) {
	in := Input{Operation: OpPodList, Subject: Subject{User: "alice"}}

	got := in.value(true)

	want := ast.MustParseTerm(`{"operation": "pod.list", "subject": {"uid": 0, "gid": 0,
		"user": "alice", "tenant": "", "groups": [], "admin": false}}`).Value
	if got.Compare(want) != 0 {
		t.Errorf("value = %v, want %v", got, want)
	}
}

func TestOperationsMatchBasePolicy(t *testing.T) {
	rs, err := rego.New(
		rego.Query("data.podplug.known_operations"),
		rego.Load([]string{shippedDir + "/base.rego"}, nil),
	).Eval(context.Background())
	if err != nil || len(rs) != 1 {
		t.Fatalf("evaluate known_operations: %v, %v", rs, err)
	}

	var inPolicy []string
	for _, v := range rs[0].Expressions[0].Value.([]any) {
		inPolicy = append(inPolicy, v.(string))
	}
	inGo := Operations()
	sort.Strings(inPolicy)
	sort.Strings(inGo)
	if !slices.Equal(inPolicy, inGo) {
		t.Errorf("base.rego known_operations = %v\nOperations() = %v", inPolicy, inGo)
	}
}
