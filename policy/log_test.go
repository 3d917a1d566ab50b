package policy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestDecisionLogLine(t *testing.T) {
	var log bytes.Buffer
	e := loadEngine(t, Options{Dir: shippedDir, DecisionLog: &log})

	d := e.Decide(context.Background(),
		Input{Operation: OpPodStop, Subject: alice(), Target: pod("db", "red")})

	var line struct {
		Time       string         `json:"time"`
		Operation  string         `json:"operation"`
		Subject    Subject        `json:"subject"`
		Target     map[string]any `json:"target"`
		Allowed    *bool          `json:"allowed"`
		Reasons    []Reason       `json:"reasons"`
		DurationNS int64          `json:"duration_ns"`
		Input      any            `json:"input"`
	}
	if err := json.Unmarshal(log.Bytes(), &line); err != nil {
		t.Fatalf("decision log %q: %v", log.String(), err)
	}
	if strings.Count(log.String(), "\n") != 1 {
		t.Errorf("decision log has %d lines, want 1", strings.Count(log.String(), "\n"))
	}
	if line.Time == "" {
		t.Error("time is missing")
	}
	if line.Operation != OpPodStop {
		t.Errorf("operation = %q, want %q", line.Operation, OpPodStop)
	}
	if line.Subject.User != "alice" || line.Subject.Tenant != "blue" {
		t.Errorf("subject = %+v, want alice of blue", line.Subject)
	}
	if line.Target["kind"] != "pod" || line.Target["name"] != "db" {
		t.Errorf("target = %v, want pod db", line.Target)
	}
	if line.Allowed == nil || *line.Allowed {
		t.Errorf("allowed = %v, want false", line.Allowed)
	}
	if len(line.Reasons) != 1 || line.Reasons[0] != d.Reasons[0] {
		t.Errorf("reasons = %v, want %v", line.Reasons, d.Reasons)
	}
	if line.DurationNS <= 0 {
		t.Errorf("duration_ns = %d, want > 0", line.DurationNS)
	}
	if line.Input != nil {
		t.Errorf("input = %v, want none without LogInput", line.Input)
	}
}

func TestDecisionLogOmitsEnv(t *testing.T) {
	secrets := []string{"s3cr3t-app0", "s3cr3t-app1", "exec-token-42", "label-secret"}
	create := createInput(2, nil)
	create.Spec.Pod.Labels = map[string]string{"env": "label-secret", "tier": "web"}
	exec := Input{Operation: OpContainerExec, Subject: alice(),
		Target:  &Target{Kind: "container", Name: "app", Owner: &Owner{Tenant: "blue"}},
		Request: &Request{Command: []string{"sh"}, Env: []string{"TOKEN=exec-token-42"}}}

	for _, logInput := range []bool{false, true} {
		var log bytes.Buffer
		e := loadEngine(t, Options{Dir: shippedDir, DecisionLog: &log, LogInput: logInput})

		e.Decide(context.Background(), create)
		e.Decide(context.Background(), exec)

		for _, secret := range secrets {
			if strings.Contains(log.String(), secret) {
				t.Errorf("LogInput %v: decision log contains %q:\n%s", logInput, secret, log.String())
			}
		}
		if logInput && !strings.Contains(log.String(), `"tier":"web"`) {
			t.Errorf("LogInput true: decision log lacks the input:\n%s", log.String())
		}
	}
}

func TestDecisionLogInputMatchesPolicyInput(t *testing.T) {
	var log bytes.Buffer
	e := loadEngine(t, Options{Dir: shippedDir, DecisionLog: &log, LogInput: true})
	e.Decide(context.Background(), createInput(1, nil))

	var line struct {
		Input struct {
			Spec struct {
				Containers []map[string]any `json:"containers"`
			} `json:"spec"`
		} `json:"input"`
	}
	if err := json.Unmarshal(log.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	if len(line.Input.Spec.Containers) != 1 {
		t.Fatalf("logged containers = %v, want 1", line.Input.Spec.Containers)
	}
	c := line.Input.Spec.Containers[0]
	if _, ok := c["env"]; ok {
		t.Errorf("logged container has env: %v", c)
	}
	if c["image"] != "localhost/busybox" {
		t.Errorf("logged image = %v, want localhost/busybox", c["image"])
	}
}

func TestListingLogLine(t *testing.T) {
	var log bytes.Buffer
	e := loadEngine(t, Options{Dir: shippedDir, DecisionLog: &log})
	targets := []Target{*pod("a", "blue"), *pod("b", "red"), *pod("c", "blue")}

	list := Input{Operation: OpPodList, Subject: alice()}
	if _, err := e.Visible(context.Background(), list, targets); err != nil {
		t.Fatal(err)
	}

	scanner := bufio.NewScanner(&log)
	var lines []map[string]any
	for scanner.Scan() {
		var m map[string]any
		if err := json.Unmarshal(scanner.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 1 {
		t.Fatalf("decision log has %d lines, want 1 per listing", len(lines))
	}
	if lines[0]["items"] != 3.0 || lines[0]["visible"] != 2.0 {
		t.Errorf("listing line = %v, want items 3 and visible 2", lines[0])
	}
}

// failingWriter fails every write, like a full disk.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errWriteFailed }

var errWriteFailed = errors.New("disk full")

func TestDecisionLogWriteFailureKeepsDeciding(t *testing.T) {
	e := loadEngine(t, Options{Dir: shippedDir, DecisionLog: failingWriter{}})

	for range 3 {
		d := e.Decide(context.Background(), Input{Operation: OpSystemInfo, Subject: alice()})
		if !d.Allowed {
			t.Fatalf("reasons %v, want allowed", d.Reasons)
		}
	}
	if got := e.logFailures.Load(); got != 3 {
		t.Errorf("logFailures = %d, want 3", got)
	}
}
