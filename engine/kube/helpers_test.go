package kube

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/podplug/podplug/engine"
)

// testPodID is the pod ID the tests pass to Containers.
const testPodID = "0123456789abcdef0123456789abcdef"

// manifest returns a Pod document named p with spec as its spec, written
// from column 0.
func manifest(spec string) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n")
	for _, line := range strings.Split(strings.Trim(spec, "\n"), "\n") {
		b.WriteString("  " + line + "\n")
	}
	return b.String()
}

// readPod reads a manifest with one Pod and fails the test on an error.
func readPod(t *testing.T, doc string) *Pod {
	t.Helper()
	m, err := Read("test.yaml", []byte(doc))
	if err != nil {
		t.Fatalf("Read: %v\nmanifest:\n%s", err, doc)
	}
	if len(m.Pods) != 1 {
		t.Fatalf("Read returned %d pods, expected 1", len(m.Pods))
	}
	return m.Pods[0]
}

// specs returns the container requests of p for testPodID.
func specs(p *Pod) []engine.ContainerSpec {
	var out []engine.ContainerSpec
	for _, c := range p.Containers(testPodID) {
		out = append(out, c.Spec)
	}
	return out
}

// only returns the one container request of p.
func only(t *testing.T, p *Pod) engine.ContainerSpec {
	t.Helper()
	all := specs(p)
	if len(all) != 1 {
		t.Fatalf("pod has %d containers, expected 1", len(all))
	}
	return all[0]
}

// byName returns the request of the container with the manifest name ctr.
func byName(t *testing.T, p *Pod, ctr string) engine.ContainerSpec {
	t.Helper()
	for _, s := range specs(p) {
		if s.Name == ContainerName(p.Name, ctr) {
			return s
		}
	}
	t.Fatalf("pod %s has no container %s", p.Name, ctr)
	return engine.ContainerSpec{}
}

func equal[T comparable](t *testing.T, field string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, expected %v", field, got, want)
	}
}

func equalSlices[T comparable](t *testing.T, field string, got, want []T) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s = %v, expected %v", field, got, want)
	}
}

// warningsText joins the warnings of p, one a line.
func warningsText(p *Pod) string {
	var lines []string
	for _, w := range p.Warnings {
		lines = append(lines, w.String())
	}
	return strings.Join(lines, "\n")
}

// asError returns err as *Error, failing the test when it is not one.
func asError(t *testing.T, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *kube.Error", err, err)
	}
	return e
}

var osReadFile = os.ReadFile

func errorsIs(err, target error) bool { return errors.Is(err, target) }

func mustReadFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
