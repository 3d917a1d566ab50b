package policy

// Operation names, the values of Input.Operation. The shipped base.rego
// denies any operation missing from this list.
const (
	OpPodCreate  = "pod.create"
	OpPodStart   = "pod.start"
	OpPodStop    = "pod.stop"
	OpPodPause   = "pod.pause"
	OpPodUnpause = "pod.unpause"
	OpPodRestart = "pod.restart"
	OpPodKill    = "pod.kill"
	OpPodRemove  = "pod.remove"
	OpPodInspect = "pod.inspect"
	OpPodList    = "pod.list"
	OpPodLogs    = "pod.logs"
	OpPodPrune   = "pod.prune"

	OpContainerCreate  = "container.create"
	OpContainerStart   = "container.start"
	OpContainerStop    = "container.stop"
	OpContainerRestart = "container.restart"
	OpContainerKill    = "container.kill"
	OpContainerRemove  = "container.remove"
	OpContainerInspect = "container.inspect"
	OpContainerList    = "container.list"
	OpContainerLogs    = "container.logs"
	OpContainerExec    = "container.exec"
	OpContainerWait    = "container.wait"

	OpImageImport  = "image.import"
	OpImageList    = "image.list"
	OpImageInspect = "image.inspect"
	OpImageRemove  = "image.remove"
	OpImageTag     = "image.tag"

	OpPluginInstall = "plugin.install"
	OpPluginList    = "plugin.list"
	OpPluginInspect = "plugin.inspect"
	OpPluginEnable  = "plugin.enable"
	OpPluginDisable = "plugin.disable"
	OpPluginRemove  = "plugin.remove"

	OpPolicyReload = "policy.reload"
	OpPolicyEval   = "policy.eval"
	OpEventsList   = "events.list"
	OpSystemInfo   = "system.info"
)

// Operations returns every operation name, in the order of the constants.
func Operations() []string {
	return []string{
		OpPodCreate, OpPodStart, OpPodStop, OpPodPause, OpPodUnpause,
		OpPodRestart, OpPodKill, OpPodRemove, OpPodInspect, OpPodList,
		OpPodLogs, OpPodPrune,
		OpContainerCreate, OpContainerStart, OpContainerStop,
		OpContainerRestart, OpContainerKill, OpContainerRemove,
		OpContainerInspect, OpContainerList, OpContainerLogs,
		OpContainerExec, OpContainerWait,
		OpImageImport, OpImageList, OpImageInspect, OpImageRemove, OpImageTag,
		OpPluginInstall, OpPluginList, OpPluginInspect, OpPluginEnable,
		OpPluginDisable, OpPluginRemove,
		OpPolicyReload, OpPolicyEval, OpEventsList, OpSystemInfo,
	}
}
