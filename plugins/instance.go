package plugins

import (
	"context"
	"fmt"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// instance is one instantiated guest module. It serves one call at a time.
type instance struct {
	module api.Module
	memory api.Memory
	buffer api.Function
	hooks  map[string]api.Function // by hook name
	alloc  *cappedMemory
	stack  [1]uint64 // every export this package calls takes and returns one value
}

// newInstance instantiates the module under callCtx, runs _initialize when
// exported and checks podplug_abi_version. parent is the caller's context,
// used to tell a cancelled call from a timeout.
func (p *Plugin) newInstance(parent, callCtx context.Context, hook string) (*instance, *Failure) {
	alloc := &cappedMemory{limit: uint64(p.manifest.MemoryLimitPages) * pageSize}
	allocator := experimental.MemoryAllocatorFunc(alloc.allocate)
	ictx := experimental.WithMemoryAllocator(callCtx, allocator)
	mod, err := p.wr.InstantiateModule(ictx, p.compiled, p.instanceConfig())
	if err != nil {
		return nil, p.classify(parent, callCtx, alloc, hook, err)
	}
	inst := &instance{
		module: mod,
		memory: mod.ExportedMemory("memory"),
		buffer: mod.ExportedFunction(exportBuffer),
		hooks:  make(map[string]api.Function, len(p.exports)),
		alloc:  alloc,
	}
	for h, export := range p.exports {
		inst.hooks[h] = mod.ExportedFunction(export)
	}
	p.stats.addCreated()

	if f := p.initInstance(parent, callCtx, inst, hook); f != nil {
		_ = mod.Close(context.Background())
		return nil, f
	}
	return inst, nil
}

func (p *Plugin) initInstance(parent, callCtx context.Context, inst *instance,
	hook string) *Failure {
	if init := inst.module.ExportedFunction("_initialize"); init != nil {
		if err := init.CallWithStack(callCtx, inst.stack[:]); err != nil {
			f := p.classify(parent, callCtx, inst.alloc, hook, err)
			f.Message = "_initialize: " + f.Message
			return f
		}
	}
	version, err := inst.call(callCtx, inst.module.ExportedFunction(exportABIVersion), 0)
	if err != nil {
		f := p.classify(parent, callCtx, inst.alloc, hook, err)
		f.Message = exportABIVersion + ": " + f.Message
		return f
	}
	if v := api.DecodeI32(version); v != ABIVersion {
		return p.failure(hook, FailureABIMismatch, nil, fmt.Sprintf(
			"%s returned %d; this host implements version %d", exportABIVersion, v, ABIVersion))
	}
	return nil
}

// call calls fn with one argument and returns its one result.
func (inst *instance) call(ctx context.Context, fn api.Function, arg uint64) (uint64, error) {
	inst.stack[0] = arg
	err := fn.CallWithStack(ctx, inst.stack[:])
	return inst.stack[0], err
}

// release returns inst to the pool when it is healthy, pooled and below the
// memory high-water mark, and closes it otherwise.
func (p *Plugin) release(inst *instance, healthy bool) {
	highWater := inst.memory.Size() > p.manifest.MemoryHighWaterPages*pageSize
	if healthy && !highWater && p.manifest.Isolation != "per-call" && !p.isClosed() {
		p.pool.put(inst)
		return
	}
	if !healthy || highWater {
		p.stats.addReplaced()
	}
	_ = inst.module.Close(context.Background())
	p.pool.free()
}

// pool holds the idle instances of one plugin and one token per live
// instance, idle or in a call, so there are never more than size of them.
type pool struct {
	idle  chan *instance
	slots chan struct{}
}

func newPool(size int) *pool {
	return &pool{idle: make(chan *instance, size), slots: make(chan struct{}, size)}
}

// take returns an idle instance, or nil with a slot reserved for a new one.
// It waits until one of them is free, ctx is done or done is closed.
func (p *pool) take(ctx context.Context, done <-chan struct{}) (*instance, error) {
	select {
	case inst := <-p.idle:
		return inst, nil
	default:
	}
	select {
	case inst := <-p.idle:
		return inst, nil
	case p.slots <- struct{}{}:
		return nil, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-done:
		return nil, ErrClosed
	}
}

// put makes inst idle. It does not block, because inst holds one of the
// slots and idle has room for as many instances as there are slots.
func (p *pool) put(inst *instance) { p.idle <- inst }

// free releases the slot of an instance that was closed or never created.
func (p *pool) free() { <-p.slots }

// drain closes the idle instances.
func (p *pool) drain(ctx context.Context) {
	for {
		select {
		case inst := <-p.idle:
			_ = inst.module.Close(ctx)
			<-p.slots
		default:
			return
		}
	}
}
