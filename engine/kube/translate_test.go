package kube

import (
	"strings"
	"testing"

	"github.com/podplug/podplug/engine/model"
)

func TestReadSupportedFields(t *testing.T) {
	tests := []struct {
		name  string
		doc   string
		check func(t *testing.T, p *Pod)
	}{
		{
			name: "metadata",
			doc: `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: demo, tier: front}
  annotations: {example.com/team: ops}
spec:
  containers: [{name: c, image: img}]
`,
			check: func(t *testing.T, p *Pod) {
				equal(t, "name", p.Name, "web")
				equal(t, "spec name", p.Spec.Name, "web")
				equal(t, "label app", p.Spec.Labels["app"], "demo")
				equal(t, "label tier", p.Spec.Labels["tier"], "front")
				c := only(t, p)
				equal(t, "container name", c.Name, "web-c")
				equal(t, "container pod", c.Pod, "web")
				equal(t, "annotation as label", c.Labels["example.com/team"], "ops")
			},
		},
		{
			name: "image defaults without command or args",
			doc:  manifest("containers: [{name: c, image: localhost/busybox}]"),
			check: func(t *testing.T, p *Pod) {
				c := only(t, p)
				equal(t, "image", c.Image, "localhost/busybox")
				equalSlices(t, "entrypoint", c.Entrypoint, nil)
				equalSlices(t, "command", c.Command, nil)
			},
		},
		{
			name: "command replaces entrypoint",
			doc:  manifest("containers: [{name: c, image: img, command: [sh, -c, 'echo hi']}]"),
			check: func(t *testing.T, p *Pod) {
				c := only(t, p)
				equalSlices(t, "entrypoint", c.Entrypoint, []string{"sh", "-c", "echo hi"})
				equalSlices(t, "command", c.Command, nil)
			},
		},
		{
			name: "args replace cmd",
			doc:  manifest("containers: [{name: c, image: img, args: [--port, '80']}]"),
			check: func(t *testing.T, p *Pod) {
				c := only(t, p)
				equalSlices(t, "entrypoint", c.Entrypoint, nil)
				equalSlices(t, "command", c.Command, []string{"--port", "80"})
			},
		},
		{
			name: "command and args",
			doc:  manifest("containers: [{name: c, image: img, command: [httpd], args: [-f]}]"),
			check: func(t *testing.T, p *Pod) {
				c := only(t, p)
				equalSlices(t, "entrypoint", c.Entrypoint, []string{"httpd"})
				equalSlices(t, "command", c.Command, []string{"-f"})
			},
		},
		{
			name: "env values and references",
			doc: manifest(`
containers:
- name: c
  image: img
  command: [echo, "$(GREETING)", "$$(GREETING)", "$(MISSING)", "$HOME"]
  env:
  - {name: WHO, value: world}
  - {name: GREETING, value: "hello $(WHO)"}
  - {name: LATER, value: "$(AFTER)"}
  - {name: AFTER, value: x}
`),
			check: func(t *testing.T, p *Pod) {
				c := only(t, p)
				equalSlices(t, "env", c.Env,
					[]string{"WHO=world", "GREETING=hello world", "LATER=$(AFTER)", "AFTER=x"})
				equalSlices(t, "entrypoint", c.Entrypoint,
					[]string{"echo", "hello world", "$(GREETING)", "$(MISSING)", "$HOME"})
			},
		},
		{
			name: "env from pod fields",
			doc: `apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: team
  labels: {app: demo}
  annotations: {note: hi}
spec:
  containers:
  - name: c
    image: img
    env:
    - {name: NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: NS, valueFrom: {fieldRef: {fieldPath: metadata.namespace, apiVersion: v1}}}
    - {name: APP, valueFrom: {fieldRef: {fieldPath: "metadata.labels['app']"}}}
    - {name: NOTE, valueFrom: {fieldRef: {fieldPath: "metadata.annotations['note']"}}}
`,
			check: func(t *testing.T, p *Pod) {
				equalSlices(t, "env", only(t, p).Env,
					[]string{"NAME=web", "NS=team", "APP=demo", "NOTE=hi"})
			},
		},
		{
			name: "namespace defaults to default",
			doc: manifest(`
containers:
- {name: c, image: img, env: [{name: NS, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}]}
`),
			check: func(t *testing.T, p *Pod) {
				equalSlices(t, "env", only(t, p).Env, []string{"NS=default"})
			},
		},
		{
			name: "working directory",
			doc:  manifest("containers: [{name: c, image: img, workingDir: /srv}]"),
			check: func(t *testing.T, p *Pod) {
				equal(t, "workDir", only(t, p).WorkDir, "/srv")
			},
		},
		{
			name: "init containers run once by default",
			doc: manifest(`
initContainers: [{name: a, image: img}, {name: b, image: img}]
containers: [{name: c, image: img}]
`),
			check: func(t *testing.T, p *Pod) {
				all := specs(p)
				equal(t, "containers", len(all), 3)
				equal(t, "first", all[0].Name, "p-a")
				equal(t, "second", all[1].Name, "p-b")
				equal(t, "third", all[2].Name, "p-c")
				equal(t, "a init mode", all[0].InitMode, model.InitOnce)
				equal(t, "b init mode", all[1].InitMode, model.InitOnce)
				equal(t, "c init mode", all[2].InitMode, "")
				equal(t, "a restart", all[0].Restart, "")
			},
		},
		{
			name: "init mode always for the pod",
			doc: `apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations: {podplug.io/init-mode: always}
spec:
  initContainers: [{name: a, image: img}, {name: b, image: img}]
  containers: [{name: c, image: img}]
`,
			check: func(t *testing.T, p *Pod) {
				equal(t, "a", byName(t, p, "a").InitMode, model.InitAlways)
				equal(t, "b", byName(t, p, "b").InitMode, model.InitAlways)
				equal(t, "c", byName(t, p, "c").InitMode, "")
				equal(t, "label", len(byName(t, p, "c").Labels), 0)
			},
		},
		{
			name: "init mode always for one container",
			doc: `apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations: {podplug.io/init-mode.b: always}
spec:
  initContainers: [{name: a, image: img}, {name: b, image: img}]
  containers: [{name: c, image: img}]
`,
			check: func(t *testing.T, p *Pod) {
				equal(t, "a", byName(t, p, "a").InitMode, model.InitOnce)
				equal(t, "b", byName(t, p, "b").InitMode, model.InitAlways)
			},
		},
		{
			name: "per-container init mode wins over the pod's",
			doc: `apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations: {podplug.io/init-mode: always, podplug.io/init-mode.a: once}
spec:
  initContainers: [{name: a, image: img}, {name: b, image: img}]
  containers: [{name: c, image: img}]
`,
			check: func(t *testing.T, p *Pod) {
				equal(t, "a", byName(t, p, "a").InitMode, model.InitOnce)
				equal(t, "b", byName(t, p, "b").InitMode, model.InitAlways)
			},
		},
		{
			name: "podman's init container type annotation",
			doc: `apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations: {io.podman.annotations.init.container.type: always}
spec:
  initContainers: [{name: a, image: img}]
  containers: [{name: c, image: img}]
`,
			check: func(t *testing.T, p *Pod) {
				equal(t, "a", byName(t, p, "a").InitMode, model.InitAlways)
				equal(t, "c labels", len(byName(t, p, "c").Labels), 0)
			},
		},
		{
			name: "requires annotation",
			doc: `apiVersion: v1
kind: Pod
metadata:
  name: web
  annotations: {podplug.io/requires.fetch: " httpd, db "}
spec:
  containers: [{name: httpd, image: img}, {name: db, image: img}, {name: fetch, image: img}]
`,
			check: func(t *testing.T, p *Pod) {
				equalSlices(t, "requires", byName(t, p, "fetch").Requires, []string{"web-httpd", "web-db"})
				equalSlices(t, "httpd requires", byName(t, p, "httpd").Requires, nil)
			},
		},
		{
			name: "restart policy defaults to always",
			doc:  manifest("containers: [{name: c, image: img}]"),
			check: func(t *testing.T, p *Pod) {
				equal(t, "restart", only(t, p).Restart, model.RestartAlways)
			},
		},
		{
			name: "restart policy OnFailure",
			doc:  manifest("restartPolicy: OnFailure\ncontainers: [{name: c, image: img}]"),
			check: func(t *testing.T, p *Pod) {
				equal(t, "restart", only(t, p).Restart, model.RestartOnFailure)
			},
		},
		{
			name: "restart policy Never",
			doc:  manifest("restartPolicy: Never\ncontainers: [{name: c, image: img}]"),
			check: func(t *testing.T, p *Pod) {
				equal(t, "restart", only(t, p).Restart, model.RestartNo)
			},
		},
		{
			name: "container restart policy overrides the pod's",
			doc: manifest(`
restartPolicy: Never
containers: [{name: a, image: img, restartPolicy: Always}, {name: b, image: img}]
`),
			check: func(t *testing.T, p *Pod) {
				equal(t, "a", byName(t, p, "a").Restart, model.RestartAlways)
				equal(t, "b", byName(t, p, "b").Restart, model.RestartNo)
			},
		},
		{
			name: "grace period is every container's stop timeout",
			doc: manifest(`
terminationGracePeriodSeconds: 3
initContainers: [{name: i, image: img}]
containers: [{name: a, image: img}, {name: b, image: img}]
`),
			check: func(t *testing.T, p *Pod) {
				for _, s := range specs(p) {
					if s.StopTimeout == nil {
						t.Fatalf("%s: no stop timeout", s.Name)
					}
					equal(t, s.Name+" stop timeout", *s.StopTimeout, uint(3))
				}
			},
		},
		{
			name: "no grace period keeps the engine's default",
			doc:  manifest("containers: [{name: c, image: img}]"),
			check: func(t *testing.T, p *Pod) {
				if only(t, p).StopTimeout != nil {
					t.Errorf("stop timeout = %d, expected none", *only(t, p).StopTimeout)
				}
			},
		},
		{
			name: "stop signal",
			doc:  manifest("containers: [{name: c, image: img, lifecycle: {stopSignal: SIGKILL}}]"),
			check: func(t *testing.T, p *Pod) {
				equal(t, "stop signal", only(t, p).StopSignal, "SIGKILL")
			},
		},
		{
			name: "host ports published on the bridge",
			doc: manifest(`
containers:
- name: c
  image: img
  ports:
  - {containerPort: 8080, hostPort: 18080}
  - {containerPort: 53, hostPort: 1053, protocol: UDP, hostIP: 127.0.0.1}
  - {containerPort: 9090, name: metrics}
`),
			check: func(t *testing.T, p *Pod) {
				equalSlices(t, "publish", p.Spec.Publish,
					[]string{"18080:8080/tcp", "127.0.0.1:1053:53/udp"})
				equal(t, "network", p.Spec.Network, model.NetworkBridge)
			},
		},
		{
			name: "container ports alone publish nothing",
			doc:  manifest("containers: [{name: c, image: img, ports: [{containerPort: 80}]}]"),
			check: func(t *testing.T, p *Pod) {
				equal(t, "publish", len(p.Spec.Publish), 0)
				equal(t, "network", p.Spec.Network, "")
			},
		},
		{
			name: "host network",
			doc: manifest(`
hostNetwork: true
containers: [{name: c, image: img, ports: [{containerPort: 80, hostPort: 80}]}]
`),
			check: func(t *testing.T, p *Pod) {
				equal(t, "network", p.Spec.Network, model.NetworkHost)
				equal(t, "publish", len(p.Spec.Publish), 0)
			},
		},
		{
			name: "hostname and shared process namespace",
			doc: manifest(`
hostname: box
shareProcessNamespace: true
containers: [{name: c, image: img}]
`),
			check: func(t *testing.T, p *Pod) {
				equal(t, "hostname", p.Spec.Hostname, "box")
				equalSlices(t, "share", p.Spec.Share, []string{"ipc", "net", "uts", "pid"})
			},
		},
		{
			name: "limits are summed over containers",
			doc: manifest(`
containers:
- {name: a, image: img, resources: {limits: {cpu: 500m, memory: 64Mi}}}
- {name: b, image: img, resources: {limits: {cpu: "1", memory: 1Gi}}}
`),
			check: func(t *testing.T, p *Pod) {
				equal(t, "cpus", p.Spec.CPUs, 1.5)
				equal(t, "memory", p.Spec.Memory, "1140850688")
			},
		},
		{
			name: "an init container limit larger than the sum wins",
			doc: manifest(`
initContainers: [{name: i, image: img, resources: {limits: {cpu: "4", memory: 2Gi}}}]
containers: [{name: a, image: img, resources: {limits: {cpu: "1", memory: 1Gi}}}]
`),
			check: func(t *testing.T, p *Pod) {
				equal(t, "cpus", p.Spec.CPUs, 4.0)
				equal(t, "memory", p.Spec.Memory, "2147483648")
			},
		},
		{
			name: "pod-level limits win",
			doc: manifest(`
resources: {limits: {cpu: 2, memory: 256Mi}}
containers: [{name: a, image: img, resources: {limits: {cpu: "1", memory: 1Gi}}}]
`),
			check: func(t *testing.T, p *Pod) {
				equal(t, "cpus", p.Spec.CPUs, 2.0)
				equal(t, "memory", p.Spec.Memory, "268435456")
			},
		},
		{
			name: "no limits",
			doc:  manifest("containers: [{name: a, image: img}]"),
			check: func(t *testing.T, p *Pod) {
				equal(t, "cpus", p.Spec.CPUs, 0.0)
				equal(t, "memory", p.Spec.Memory, "")
			},
		},
		{
			name: "user and group",
			doc: manifest(`
containers:
- {name: a, image: img, securityContext: {runAsUser: 1000, runAsGroup: 100}}
- {name: b, image: img, securityContext: {runAsUser: 1000}}
- {name: c, image: img, securityContext: {runAsUser: 5, runAsNonRoot: true}}
`),
			check: func(t *testing.T, p *Pod) {
				equal(t, "a", byName(t, p, "a").User, "1000:100")
				equal(t, "b", byName(t, p, "b").User, "1000")
				equal(t, "c", byName(t, p, "c").User, "5")
			},
		},
		{
			name: "pod user is the default of each container",
			doc: manifest(`
securityContext: {runAsUser: 7, runAsGroup: 8}
containers:
- {name: a, image: img}
- {name: b, image: img, securityContext: {runAsUser: 0}}
`),
			check: func(t *testing.T, p *Pod) {
				equal(t, "a", byName(t, p, "a").User, "7:8")
				equal(t, "b", byName(t, p, "b").User, "0:8")
			},
		},
		{
			name: "privileges",
			doc: manifest(`
containers:
- name: a
  image: img
  securityContext:
    privileged: true
    readOnlyRootFilesystem: true
    capabilities: {add: [NET_ADMIN, SYS_TIME], drop: [MKNOD]}
- {name: b, image: img, securityContext: {privileged: false}}
`),
			check: func(t *testing.T, p *Pod) {
				a, b := byName(t, p, "a"), byName(t, p, "b")
				equal(t, "a privileged", a.Privileged, true)
				equal(t, "a read-only", a.ReadOnlyRootfs, true)
				equalSlices(t, "a cap add", a.CapAdd, []string{"NET_ADMIN", "SYS_TIME"})
				equalSlices(t, "a cap drop", a.CapDrop, []string{"MKNOD"})
				equal(t, "b privileged", b.Privileged, false)
				equal(t, "b read-only", b.ReadOnlyRootfs, false)
			},
		},
		{
			name: "emptyDir is a named volume of the pod",
			doc: manifest(`
volumes: [{name: site, emptyDir: {}}]
initContainers: [{name: i, image: img, volumeMounts: [{name: site, mountPath: /www}]}]
containers: [{name: c, image: img, volumeMounts: [{name: site, mountPath: /www/, readOnly: true}]}]
`),
			check: func(t *testing.T, p *Pod) {
				name := EmptyDirVolume(testPodID, "site")
				equalSlices(t, "init volumes", byName(t, p, "i").Volumes, []string{name + ":/www"})
				equalSlices(t, "volumes", byName(t, p, "c").Volumes, []string{name + ":/www:ro"})
				equal(t, "prefix", strings.HasPrefix(name, EmptyDirPrefix(testPodID)), true)
			},
		},
		{
			name: "hostPath is a bind mount",
			doc: manifest(`
volumes: [{name: logs, hostPath: {path: /var/log/app/, type: DirectoryOrCreate}}]
containers: [{name: c, image: img, volumeMounts: [{name: logs, mountPath: /logs}]}]
`),
			check: func(t *testing.T, p *Pod) {
				reqs := p.Containers(testPodID)
				equalSlices(t, "volumes", reqs[0].Spec.Volumes, []string{"/var/log/app:/logs"})
				equalSlices(t, "host paths", reqs[0].HostPaths,
					[]HostPath{{Path: "/var/log/app", Type: "DirectoryOrCreate"}})
			},
		},
		{
			name: "persistentVolumeClaim is a named volume",
			doc: manifest(`
volumes: [{name: db, persistentVolumeClaim: {claimName: pgdata, readOnly: true}}]
containers: [{name: c, image: img, volumeMounts: [{name: db, mountPath: /var/lib/pg}]}]
`),
			check: func(t *testing.T, p *Pod) {
				equalSlices(t, "volumes", only(t, p).Volumes, []string{"pgdata:/var/lib/pg:ro"})
			},
		},
		{
			name: "Memory emptyDir of one container is a tmpfs",
			doc: manifest(`
volumes: [{name: cache, emptyDir: {medium: Memory}}]
containers: [{name: c, image: img, volumeMounts: [{name: cache, mountPath: /cache}]}]
`),
			check: func(t *testing.T, p *Pod) {
				c := only(t, p)
				equalSlices(t, "tmpfs", c.Tmpfs, []string{"/cache"})
				equalSlices(t, "volumes", c.Volumes, nil)
			},
		},
		{
			name: "several documents",
			doc: "# two pods\n---\n" + manifest("containers: [{name: c, image: img}]") +
				"---\n# nothing\n---\n" +
				strings.Replace(manifest("containers: [{name: c, image: img}]"), "name: p", "name: q", 1),
			check: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.check == nil {
				m, err := Read("test.yaml", []byte(tt.doc))
				if err != nil {
					t.Fatal(err)
				}
				equal(t, "pods", len(m.Pods), 2)
				equal(t, "first", m.Pods[0].Name, "p")
				equal(t, "second", m.Pods[1].Name, "q")
				return
			}
			p := readPod(t, tt.doc)
			if len(p.Warnings) > 0 {
				t.Errorf("unexpected warnings:\n%s", warningsText(p))
			}
			tt.check(t, p)
		})
	}
}

func TestReadSharedMemoryVolume(t *testing.T) {
	p := readPod(t, manifest(`
volumes: [{name: cache, emptyDir: {medium: Memory}}]
containers:
- {name: a, image: img, volumeMounts: [{name: cache, mountPath: /cache}]}
- {name: b, image: img, volumeMounts: [{name: cache, mountPath: /cache}]}
`))
	name := EmptyDirVolume(testPodID, "cache")
	equalSlices(t, "a volumes", byName(t, p, "a").Volumes, []string{name + ":/cache"})
	equalSlices(t, "b volumes", byName(t, p, "b").Volumes, []string{name + ":/cache"})
	equalSlices(t, "a tmpfs", byName(t, p, "a").Tmpfs, nil)
	if !strings.Contains(warningsText(p), "share this volume") {
		t.Errorf("warnings %q do not say that the volume is shared", warningsText(p))
	}
}

func TestReadWarnings(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		// want is the expected text of the only warning.
		want string
	}{
		{
			name: "stdin",
			doc:  manifest("containers:\n- name: c\n  image: img\n  stdin: true"),
			want: "test.yaml:9: spec.containers[0].stdin: not supported: ignored",
		},
		{
			name: "requests",
			doc:  manifest("containers:\n- name: c\n  image: img\n  resources:\n    requests: {cpu: 1}"),
			want: "test.yaml:10: spec.containers[0].resources.requests: not supported: ignored",
		},
		{
			name: "node selector",
			doc:  manifest("nodeSelector: {disk: ssd}\ncontainers: [{name: c, image: img}]"),
			want: "test.yaml:6: spec.nodeSelector: not supported: ignored",
		},
		{
			name: "affinity reported once",
			doc: manifest(`
affinity:
  nodeAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      nodeSelectorTerms: [{matchExpressions: [{key: a, operator: In, values: [b]}]}]
containers: [{name: c, image: img}]
`),
			want: "test.yaml:6: spec.affinity: not supported: ignored",
		},
		{
			name: "security context option",
			doc: manifest(`
containers:
- name: c
  image: img
  securityContext:
    seccompProfile: {type: RuntimeDefault}
`),
			want: "test.yaml:10: spec.containers[0].securityContext.seccompProfile: not supported: ignored",
		},
		{
			name: "image pull policy Always",
			doc:  manifest("containers: [{name: c, image: img, imagePullPolicy: Always}]"),
			want: "test.yaml:6: spec.containers[0].imagePullPolicy: play does not pull images: " +
				"the stored image img is used",
		},
		{
			name: "emptyDir size limit",
			doc:  manifest("volumes: [{name: v, emptyDir: {sizeLimit: 1Gi}}]\ncontainers: [{name: c, image: img}]"),
			want: "test.yaml:6: spec.volumes[0].emptyDir.sizeLimit: not supported: ignored",
		},
		{
			name: "limit of another resource",
			doc: manifest(`
containers:
- name: c
  image: img
  resources:
    limits: {ephemeral-storage: 1Gi}
`),
			want: `test.yaml:10: spec.containers[0].resources.limits["ephemeral-storage"]: ` +
				"not supported: ignored; podplug limits cpu and memory",
		},
		{
			name: "unknown podplug annotation",
			doc: `apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations: {podplug.io/requirez.c: a}
spec:
  containers: [{name: c, image: img}]
`,
			want: `test.yaml:5: metadata.annotations["podplug.io/requirez.c"]: unknown podplug ` +
				"annotation: ignored; podplug reads podplug.io/init-mode and podplug.io/requires.NAME",
		},
		{
			name: "readOnly Memory emptyDir",
			doc: manifest(`
volumes: [{name: v, emptyDir: {medium: Memory}}]
containers:
- name: c
  image: img
  volumeMounts:
  - {name: v, mountPath: /v, readOnly: true}
`),
			want: "test.yaml:11: spec.containers[0].volumeMounts[0].readOnly: a Memory emptyDir is a tmpfs " +
				"that starts empty: readOnly is ignored",
		},
		{
			name: "some containers without limits",
			doc: manifest(`
containers:
- {name: a, image: img, resources: {limits: {memory: 64Mi}}}
- {name: b, image: img}
`),
			want: "test.yaml:6: spec.containers: containers b set no memory limit: the pod's memory limit " +
				"is the sum of the other containers' limits and applies to them too",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := readPod(t, tt.doc)
			equal(t, "warnings", warningsText(p), tt.want)
		})
	}
}

func TestReadIgnoresOutputAndZeroFields(t *testing.T) {
	p := readPod(t, `apiVersion: v1
kind: Pod
metadata:
  name: p
  creationTimestamp: null
  uid: 1b2c
  resourceVersion: "42"
spec:
  hostPID: false
  nodeName: ""
  containers:
  - name: c
    image: img
    resources: {}
    livenessProbe: null
    terminationMessagePath: /dev/termination-log
    terminationMessagePolicy: File
    tty: false
status:
  phase: Running
  conditions: [{type: Ready, status: "True"}]
`)
	if len(p.Warnings) > 0 {
		t.Errorf("unexpected warnings:\n%s", warningsText(p))
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name        string
		doc         string
		unsupported bool // ErrUnsupported, else ErrInvalid
		want        string
	}{
		{
			name: "syntax error", doc: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [p\nspec: {}\n",
			want: "test.yaml:4: invalid YAML: did not find expected ',' or ']'",
		},
		{
			name: "syntax error in second document",
			doc:  manifest("containers: [{name: c, image: img}]") + "---\nkind: Pod\n  bad: indent\n",
			want: "test.yaml:9: invalid YAML: mapping values are not allowed in this context",
		},
		{
			name: "duplicate key",
			doc:  "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  name: q\nspec: {}\n",
			want: `test.yaml:5: invalid YAML: key "name" already set in map`,
		},
		{
			name: "unknown field",
			doc:  manifest("containers:\n- name: c\n  image: img\n  imagePolicy: x"),
			want: `test.yaml:9: spec.containers[0].imagePolicy: unknown field "imagePolicy": ` +
				"check its spelling and indentation",
		},
		{
			name: "field of the wrong case",
			doc:  manifest("containers:\n- name: c\n  Image: img"),
			want: `test.yaml:8: spec.containers[0].Image: unknown field "Image"`,
		},
		{
			name: "wrong type",
			doc:  manifest("containers:\n- name: c\n  image: img\n  ports:\n  - containerPort: http"),
			want: "test.yaml:10: spec.containers.ports.containerPort: expected an integer, got string",
		},
		{
			name: "not a mapping", doc: "- a\n- b\n",
			want: "test.yaml:1: a manifest document must be a mapping",
		},
		{
			name: "no pod", doc: "# only a comment\n---\n",
			want: "test.yaml: no Pod document: a manifest needs at least one",
		},
		{
			name: "deployment", unsupported: true,
			doc:  "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n",
			want: "test.yaml:2: kind: Deployment is not supported: podplug plays documents of kind Pod only",
		},
		{
			name: "missing kind", doc: "apiVersion: v1\nmetadata: {name: d}\n",
			want: "test.yaml:1: kind: missing",
		},
		{
			name: "wrong api version", doc: "apiVersion: v2\nkind: Pod\nmetadata: {name: d}\n",
			want: `test.yaml:1: apiVersion: "v2": a Pod needs apiVersion v1`,
		},
		{
			name: "liveness probe", unsupported: true,
			doc:  manifest("containers:\n- name: c\n  image: img\n  livenessProbe:\n    exec: {command: [true]}"),
			want: "test.yaml:9: spec.containers[0].livenessProbe: probes are not supported",
		},
		{
			name: "readiness probe", unsupported: true,
			doc:  manifest("containers:\n- name: c\n  image: img\n  readinessProbe: {tcpSocket: {port: 80}}"),
			want: "test.yaml:9: spec.containers[0].readinessProbe: probes are not supported",
		},
		{
			name: "startup probe of an init container", unsupported: true,
			doc: manifest("initContainers:\n- name: i\n  image: img\n  startupProbe: {tcpSocket: {port: 80}}\n" +
				"containers: [{name: c, image: img}]"),
			want: "test.yaml:9: spec.initContainers[0].startupProbe: probes are not supported",
		},
		{
			name: "postStart hook", unsupported: true,
			doc:  manifest("containers:\n- name: c\n  image: img\n  lifecycle:\n    postStart: {exec: {command: [x]}}"),
			want: "test.yaml:10: spec.containers[0].lifecycle.postStart: lifecycle hooks are not supported",
		},
		{
			name: "preStop hook", unsupported: true,
			doc:  manifest("containers:\n- name: c\n  image: img\n  lifecycle:\n    preStop: {sleep: {seconds: 1}}"),
			want: "test.yaml:10: spec.containers[0].lifecycle.preStop: lifecycle hooks are not supported",
		},
		{
			name: "envFrom", unsupported: true,
			doc:  manifest("containers:\n- name: c\n  image: img\n  envFrom: [{configMapRef: {name: x}}]"),
			want: "test.yaml:9: spec.containers[0].envFrom: envFrom is not supported",
		},
		{
			name: "secret reference", unsupported: true,
			doc: manifest("containers:\n- name: c\n  image: img\n  env:\n  - name: A\n    valueFrom:\n" +
				"      secretKeyRef: {name: s, key: k}"),
			want: "test.yaml:12: spec.containers[0].env[0].valueFrom.secretKeyRef: secretKeyRef is not supported",
		},
		{
			name: "status field reference", unsupported: true,
			doc: manifest("containers:\n- name: c\n  image: img\n  env:\n  - name: A\n    valueFrom:\n" +
				"      fieldRef: {fieldPath: status.podIP}"),
			want: `test.yaml:12: spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: "status.podIP" ` +
				"is not supported",
		},
		{
			name: "value and valueFrom",
			doc: manifest("containers:\n- name: c\n  image: img\n  env:\n  - name: A\n    value: x\n" +
				"    valueFrom: {fieldRef: {fieldPath: metadata.name}}"),
			want: "test.yaml:10: spec.containers[0].env[0]: set value or valueFrom, not both",
		},
		{
			name: "configMap volume", unsupported: true,
			doc:  manifest("volumes:\n- name: v\n  configMap: {name: cm}\ncontainers: [{name: c, image: img}]"),
			want: "test.yaml:8: spec.volumes[0].configMap: volume type configMap is not supported",
		},
		{
			name: "volume without type",
			doc:  manifest("volumes:\n- name: v\ncontainers: [{name: c, image: img}]"),
			want: "test.yaml:7: spec.volumes[0]: volume v has no type",
		},
		{
			name: "hugepages medium", unsupported: true,
			doc:  manifest("volumes:\n- name: v\n  emptyDir: {medium: HugePages}\ncontainers: [{name: c, image: img}]"),
			want: `test.yaml:8: spec.volumes[0].emptyDir.medium: "HugePages" is not supported`,
		},
		{
			name: "relative hostPath",
			doc:  manifest("volumes:\n- name: v\n  hostPath: {path: data}\ncontainers: [{name: c, image: img}]"),
			want: `test.yaml:8: spec.volumes[0].hostPath.path: "data": use an absolute path`,
		},
		{
			name: "bad hostPath type",
			doc: manifest("volumes:\n- name: v\n  hostPath: {path: /d, type: Folder}\n" +
				"containers: [{name: c, image: img}]"),
			want: `test.yaml:8: spec.volumes[0].hostPath.type: "Folder": use DirectoryOrCreate`,
		},
		{
			name: "subPath", unsupported: true,
			doc: manifest("volumes: [{name: v, emptyDir: {}}]\ncontainers:\n- name: c\n  image: img\n" +
				"  volumeMounts:\n  - {name: v, mountPath: /v, subPath: x}"),
			want: "test.yaml:11: spec.containers[0].volumeMounts[0].subPath: mounting part of a volume " +
				"is not supported",
		},
		{
			name: "undefined volume",
			doc:  manifest("containers:\n- name: c\n  image: img\n  volumeMounts: [{name: v, mountPath: /v}]"),
			want: `test.yaml:9: spec.containers[0].volumeMounts[0].name: no volume "v" in spec.volumes`,
		},
		{
			name: "relative mount path",
			doc: manifest("volumes: [{name: v, emptyDir: {}}]\ncontainers:\n- name: c\n  image: img\n" +
				"  volumeMounts:\n  - {name: v, mountPath: v}"),
			want: `test.yaml:11: spec.containers[0].volumeMounts[0].mountPath: "v": use an absolute path`,
		},
		{
			name: "host PID", unsupported: true,
			doc:  manifest("hostPID: true\ncontainers: [{name: c, image: img}]"),
			want: "test.yaml:6: spec.hostPID: sharing the host's PID namespace is not supported",
		},
		{
			name: "host IPC", unsupported: true,
			doc:  manifest("hostIPC: true\ncontainers: [{name: c, image: img}]"),
			want: "test.yaml:6: spec.hostIPC: sharing the host's IPC namespace is not supported",
		},
		{
			name: "user namespace", unsupported: true,
			doc:  manifest("hostUsers: false\ncontainers: [{name: c, image: img}]"),
			want: "test.yaml:6: spec.hostUsers: user namespaces are not supported",
		},
		{
			name: "sidecar init container", unsupported: true,
			doc: manifest("initContainers:\n- {name: i, image: img, restartPolicy: Always}\n" +
				"containers: [{name: c, image: img}]"),
			want: "test.yaml:7: spec.initContainers[0].restartPolicy: init containers that keep running",
		},
		{
			name: "SCTP", unsupported: true,
			doc:  manifest("containers:\n- name: c\n  image: img\n  ports: [{containerPort: 9, protocol: SCTP}]"),
			want: "test.yaml:9: spec.containers[0].ports[0].protocol: SCTP is not supported",
		},
		{
			name: "port out of range",
			doc:  manifest("containers:\n- name: c\n  image: img\n  ports: [{containerPort: 70000}]"),
			want: "test.yaml:9: spec.containers[0].ports[0].containerPort: 70000: use a port from 1 to 65535",
		},
		{
			name: "host network port mismatch",
			doc: manifest("hostNetwork: true\ncontainers:\n- name: c\n  image: img\n" +
				"  ports: [{containerPort: 80, hostPort: 8080}]"),
			want: "test.yaml:10: spec.containers[0].ports[0].hostPort: 8080: with hostNetwork it must " +
				"equal containerPort 80",
		},
		{
			name: "IPv6 host IP",
			doc: manifest("containers:\n- name: c\n  image: img\n" +
				"  ports: [{containerPort: 80, hostPort: 8080, hostIP: '::1'}]"),
			want: "test.yaml:9: spec.containers[0].ports[0]: invalid publish",
		},
		{
			name: "runAsNonRoot without user", unsupported: true,
			doc: manifest("containers:\n- name: c\n  image: img\n  securityContext: {runAsNonRoot: true}"),
			want: "test.yaml:9: spec.containers[0].securityContext.runAsNonRoot: runAsNonRoot needs a " +
				"runAsUser other than 0",
		},
		{
			name: "runAsNonRoot with root", unsupported: true,
			doc: manifest("securityContext: {runAsNonRoot: true}\ncontainers:\n- name: c\n  image: img\n" +
				"  securityContext: {runAsUser: 0}"),
			want: "test.yaml:6: spec.securityContext.runAsNonRoot: runAsNonRoot needs a runAsUser other than 0",
		},
		{
			name: "runAsGroup alone", unsupported: true,
			doc:  manifest("securityContext: {runAsGroup: 5}\ncontainers: [{name: c, image: img}]"),
			want: "test.yaml:6: spec.securityContext.runAsGroup: runAsGroup without runAsUser is not supported",
		},
		{
			name: "negative user",
			doc:  manifest("containers:\n- name: c\n  image: img\n  securityContext: {runAsUser: -1}"),
			want: "test.yaml:9: spec.containers[0].securityContext.runAsUser: -1: use an id from 0 to 4294967295",
		},
		{
			name: "unknown capability",
			doc: manifest("containers:\n- name: c\n  image: img\n  securityContext:\n" +
				"    capabilities: {add: [FLY]}"),
			want: `test.yaml:10: spec.containers[0].securityContext.capabilities.add: "CAP_FLY": unknown capability`,
		},
		{
			name: "missing pod name",
			doc:  "apiVersion: v1\nkind: Pod\nmetadata: {labels: {a: b}}\nspec:\n  containers: [{name: c, image: img}]\n",
			want: "test.yaml:3: metadata.name: missing: every pod needs a name",
		},
		{
			name: "invalid pod name",
			doc:  strings.Replace(manifest("containers: [{name: c, image: img}]"), "name: p", "name: -p", 1),
			want: `test.yaml:4: metadata.name: "-p": use letters, digits`,
		},
		{
			name: "no containers",
			doc:  manifest("restartPolicy: Never"),
			want: "test.yaml:5: spec.containers: missing: a pod needs at least one container",
		},
		{
			name: "missing image",
			doc:  manifest("containers:\n- name: c"),
			want: "test.yaml:7: spec.containers[0].image: missing: every container needs an image",
		},
		{
			name: "missing container name",
			doc:  manifest("containers:\n- image: img"),
			want: "test.yaml:7: spec.containers[0].name: missing: every container needs a name",
		},
		{
			name: "duplicate container name",
			doc:  manifest("initContainers: [{name: c, image: img}]\ncontainers:\n- {name: c, image: img}"),
			want: "test.yaml:8: spec.containers[0].name: c: another container of pod p has this name",
		},
		{
			name: "duplicate pod name",
			doc:  manifest("containers: [{name: c, image: img}]") + "---\n" + manifest("containers: [{name: c, image: img}]"),
			want: "test.yaml:11: metadata.name: pod p is also defined on line 4",
		},
		{
			name: "relative working directory",
			doc:  manifest("containers: [{name: c, image: img, workingDir: srv}]"),
			want: `test.yaml:6: spec.containers[0].workingDir: "srv" must be an absolute path`,
		},
		{
			name: "bad restart policy",
			doc:  manifest("restartPolicy: Sometimes\ncontainers: [{name: c, image: img}]"),
			want: `test.yaml:6: spec.restartPolicy: "Sometimes": use Always, OnFailure or Never`,
		},
		{
			name: "negative grace period",
			doc:  manifest("terminationGracePeriodSeconds: -1\ncontainers: [{name: c, image: img}]"),
			want: "test.yaml:6: spec.terminationGracePeriodSeconds: -1: must not be negative",
		},
		{
			name: "bad stop signal",
			doc:  manifest("containers:\n- name: c\n  image: img\n  lifecycle: {stopSignal: SIGNOPE}"),
			want: `test.yaml:9: spec.containers[0].lifecycle.stopSignal: "SIGNOPE": use a name such as SIGTERM`,
		},
		{
			name: "negative limit",
			doc:  manifest("containers:\n- name: c\n  image: img\n  resources: {limits: {memory: -1Gi}}"),
			want: `test.yaml:9: spec.containers[0].resources.limits["memory"]: -1Gi: must not be negative`,
		},
		{
			name: "memory limit too large",
			doc: manifest("containers:\n- name: c\n  image: img\n  resources: {limits: {memory: 8Ei}}\n" +
				"- name: d\n  image: img\n  resources: {limits: {memory: 8Ei}}"),
			want: "test.yaml:5: spec: the pod's memory limit of 1.8446744073709552e+19 bytes is too large",
		},
		{
			name: "cpu limit too large",
			doc:  manifest("containers:\n- name: c\n  image: img\n  resources: {limits: {cpu: 1e12}}"),
			want: "test.yaml:5: spec: the pod's cpu limit of 1e+12 cores is too large",
		},
		{
			name: "bad init mode",
			doc: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations: {podplug.io/init-mode: twice}\n" +
				"spec:\n  containers: [{name: c, image: img}]\n",
			want: `test.yaml:5: metadata.annotations["podplug.io/init-mode"]: "twice": use once or always`,
		},
		{
			name: "init mode of an ordinary container",
			doc: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations: {podplug.io/init-mode.c: always}\n" +
				"spec:\n  containers: [{name: c, image: img}]\n",
			want: `test.yaml:5: metadata.annotations["podplug.io/init-mode.c"]: c is not an init container of pod p`,
		},
		{
			name: "requires of a missing container",
			doc: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations: {podplug.io/requires.x: c}\n" +
				"spec:\n  containers: [{name: c, image: img}]\n",
			want: `test.yaml:5: metadata.annotations["podplug.io/requires.x"]: pod p has no container x`,
		},
		{
			name: "requires a missing container",
			doc: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations: {podplug.io/requires.c: db}\n" +
				"spec:\n  containers: [{name: c, image: img}]\n",
			want: `test.yaml:5: metadata.annotations["podplug.io/requires.c"]: c requires db, which is not a container of pod p`,
		},
		{
			name: "requires an init container",
			doc: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations: {podplug.io/requires.c: i}\n" +
				"spec:\n  initContainers: [{name: i, image: img}]\n  containers: [{name: c, image: img}]\n",
			want: `c requires i, which is an init container: require ordinary containers only`,
		},
		{
			name: "init container requires",
			doc: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations: {podplug.io/requires.i: c}\n" +
				"spec:\n  initContainers: [{name: i, image: img}]\n  containers: [{name: c, image: img}]\n",
			want: `i is an init container: init containers run in manifest order and cannot require others`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Read("test.yaml", []byte(tt.doc))
			if err == nil {
				t.Fatalf("Read returned %d pods and no error, expected %q", len(m.Pods), tt.want)
			}
			asError(t, err)
			wantErr := ErrInvalid
			if tt.unsupported {
				wantErr = ErrUnsupported
			}
			if !errorsIs(err, wantErr) {
				t.Errorf("error %q does not wrap %q", err, wantErr)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, expected it to contain %q", err, tt.want)
			}
		})
	}
}

func TestReadRealManifests(t *testing.T) {
	for _, path := range []string{"testdata/full.yaml", "../../examples/pods/web.yaml"} {
		t.Run(path, func(t *testing.T) {
			data := mustReadFile(t, path)
			m, err := Read(path, data)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range m.Pods {
				if len(p.Warnings) > 0 {
					t.Errorf("pod %s: unexpected warnings:\n%s", p.Name, warningsText(p))
				}
			}
		})
	}
}

func TestPodNames(t *testing.T) {
	doc := manifest("containers: [{name: c, image: img}]") + "---\n" +
		"apiVersion: v1\nkind: Pod\nmetadata: {name: q}\nspec:\n  livenessProbe: ignored by down\n"
	names, err := PodNames("test.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	equalSlices(t, "names", names, []string{"p", "q"})

	_, err = PodNames("test.yaml", []byte("apiVersion: v1\nkind: Pod\nmetadata: {}\n"))
	if err == nil || !strings.Contains(err.Error(), "metadata.name: missing") {
		t.Errorf("PodNames without a name returned %v, expected a missing name error", err)
	}
}
