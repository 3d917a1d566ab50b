// Package kube translates Kubernetes Pod manifests into the engine's pod
// and container requests, for `podplug kube play` and `kube down`, and
// writes manifests of existing pods, for `podplug kube generate`.
//
// Read accepts documents of kind Pod (apiVersion v1), several per file,
// and translates:
//
//   - metadata: name, which names the pod, labels, and annotations, which
//     every container gets as labels. Container NAME of pod POD is named
//     POD-NAME, as podman names it, because names are unique per tenant;
//   - containers and initContainers: image; command, which replaces the
//     image's entrypoint and drops its cmd, and args, which replace the
//     cmd; $(VAR) in both and in env values, expanded as Kubernetes does;
//     env values and fieldRef of metadata.name, metadata.namespace and
//     metadata.labels or metadata.annotations; workingDir; ports with a
//     hostPort, published on the bridge; resources.limits cpu and memory;
//     securityContext runAsUser, runAsGroup, runAsNonRoot, privileged,
//     capabilities and readOnlyRootFilesystem; lifecycle.stopSignal;
//     volumeMounts with readOnly;
//   - spec: restartPolicy (Always, OnFailure, Never become always,
//     on-failure, no; a container's own restartPolicy wins), hostNetwork,
//     hostname, shareProcessNamespace, terminationGracePeriodSeconds (every
//     container's stop timeout), securityContext as each container's
//     default, resources.limits, and volumes: emptyDir (a named volume of
//     the pod, or a tmpfs for medium Memory mounted by one container),
//     hostPath and persistentVolumeClaim (a named volume after the claim).
//
// The pod's limits are spec.resources.limits where given, else the sum of
// the ordinary containers' limits or the largest init container's,
// whichever is larger, as Kubernetes computes a pod's effective limit.
//
// Init containers run once unless the annotation podplug.io/init-mode
// (every init container) or podplug.io/init-mode.NAME (one) says always;
// podman's io.podman.annotations.init.container.type is read too.
// podman's kube play has no way to order containers, so the annotation
// podplug.io/requires.NAME: A,B makes container NAME start after A and B.
//
// A field that play cannot honour is ignored with a Warning, unless
// ignoring it would surprise: probes, lifecycle hooks, envFrom, secret or
// config map references, volume types other than the three above,
// subPath, hostPID, hostIPC and kinds other than Pod are errors. Read
// returns each error as an *Error with the file's line when it is known.
//
// Generate writes a Pod from an inspected pod such that Read and the
// engine give back the same containers, images, commands, environment,
// init modes, restart policies, volumes and limits. An init container that
// ran once is gone from a started pod and so from its manifest.
package kube
