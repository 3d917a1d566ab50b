package network

import (
	"context"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// The bridge plugin's ipMasq option gives every pod a nat chain that
// masquerades the pod's outgoing traffic, and a POSTROUTING rule that sends
// the pod's address to that chain. The bridge plugin 1.1.1 removes both on
// DEL only when the pod's namespace still exists, although it releases the
// address either way (TestTeardownAfterNetnsGone fails without
// removeMasquerade). removeMasquerade removes them from the host side, by
// the names the plugin gives them.

// masqChain returns the bridge plugin's masquerade chain name for a pod:
// "CNI-" and the SHA-512 of network name and pod ID in hexadecimal, cut to
// 28 characters. TestMasqChainName checks it against names the plugin made.
func masqChain(network, podID string) string {
	sum := sha512.Sum512([]byte(network + podID))
	return ("CNI-" + hex.EncodeToString(sum[:]))[:28]
}

// masqComment returns the comment the bridge plugin puts on the
// POSTROUTING rule of a pod, as iptables -S shows it for plugins 1.1.1.
func masqComment(network, podID string) string {
	return fmt.Sprintf("name: %q id: %q", network, podID)
}

// removeMasquerade deletes the masquerade chain of a pod and the
// POSTROUTING rules that jump to it. A pod without them is not an error.
func removeMasquerade(ctx context.Context, network, podID string) error {
	chain := masqChain(network, podID)
	if _, err := iptablesOutput(ctx, "-S", chain); err != nil {
		return nil // no chain: the plugin removed it, or never made it
	}

	rules, err := iptablesOutput(ctx, "-S", "POSTROUTING")
	if err != nil {
		return fmt.Errorf("remove masquerade rules of pod %s: %w", podID, err)
	}
	var errs []error
	for _, line := range strings.Split(rules, "\n") {
		src, ok := jumpSource(line, chain)
		if !ok {
			continue
		}
		_, err := iptablesOutput(ctx, "-D", "POSTROUTING", "-s", src,
			"-m", "comment", "--comment", masqComment(network, podID), "-j", chain)
		errs = append(errs, err)
	}
	if _, err := iptablesOutput(ctx, "-F", chain); err != nil {
		errs = append(errs, err)
	} else {
		_, err := iptablesOutput(ctx, "-X", chain)
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("remove masquerade rules of pod %s: %w", podID, err)
	}
	return nil
}

// jumpSource returns the source address of a rule in iptables -S syntax
// that jumps to chain.
func jumpSource(line, chain string) (string, bool) {
	fields := strings.Fields(line)
	var src, target string
	for i := 0; i+1 < len(fields); i++ {
		switch fields[i] {
		case "-s":
			src = fields[i+1]
		case "-j":
			target = fields[i+1]
		}
	}
	return src, target == chain && src != ""
}

// iptablesOutput runs iptables on the nat table, waiting for the xtables
// lock, and returns its output.
func iptablesOutput(ctx context.Context, args ...string) (string, error) {
	args = append([]string{"-w", "-t", "nat"}, args...)
	out, err := exec.CommandContext(ctx, "iptables", args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("iptables %s: %w: %s", strings.Join(args, " "), err,
			strings.TrimSpace(string(out)))
	}
	return string(out), nil
}
