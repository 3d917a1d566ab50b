package policy_test

import (
	"context"
	"fmt"

	"github.com/podplug/podplug/policy"
)

func Example() {
	ctx := context.Background()
	engine, err := policy.Load(ctx, policy.Options{Dir: "../examples/policies"})
	if err != nil {
		fmt.Println(err)
		return
	}

	alice := policy.Subject{UID: 1001, User: "alice", Tenant: "blue"}
	decision := engine.Decide(ctx, policy.Input{
		Operation: policy.OpPodStop,
		Subject:   alice,
		Target: &policy.Target{Kind: "pod", Name: "db",
			Owner: &policy.Owner{UID: 1002, Tenant: "red"}},
	})

	fmt.Println("allowed:", decision.Allowed)
	fmt.Println("hidden:", decision.Hidden())
	for _, r := range decision.Reasons {
		fmt.Printf("%s: %s\n", r.Code, r.Message)
	}
	// Output:
	// allowed: false
	// hidden: true
	// tenant_isolation: pod not found
}

func ExampleEngine_Visible() {
	ctx := context.Background()
	engine, err := policy.Load(ctx, policy.Options{Dir: "../examples/policies"})
	if err != nil {
		fmt.Println(err)
		return
	}

	pods := []policy.Target{
		{Kind: "pod", Name: "web", Owner: &policy.Owner{Tenant: "blue"}},
		{Kind: "pod", Name: "db", Owner: &policy.Owner{Tenant: "red"}},
	}
	list := policy.Input{Operation: policy.OpPodList,
		Subject: policy.Subject{User: "alice", Tenant: "blue"}}
	visible, err := engine.Visible(ctx, list, pods)
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, pod := range pods {
		fmt.Println(pod.Name, visible[i])
	}
	// Output:
	// web true
	// db false
}
