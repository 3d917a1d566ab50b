package store

import (
	"encoding/binary"
)

// Key layout. Each key starts with a short prefix that names its record type
// or index:
//
//	meta/schema          schema version, decimal ASCII
//	meta/eventseq        badger Sequence lease for event Seq numbers
//	p/<podID>            pod record, JSON
//	pn/<tenant>name      pod name index, value is the pod ID
//	pt/<tenant>podID     pods of a tenant, for ID and ID prefix lookups, empty value
//	c/<ctrID>            container record, JSON
//	cn/<tenant>name      container name index, value is the container ID
//	ct/<tenant>ctrID     containers of a tenant, empty value
//	pc/<podID>ctrID      containers of a pod, empty value
//	i/<imageID>          image record, JSON; image IDs have the form sha256:<hex>
//	in/<name>            image name index, value is the image ID
//	e/<seq>              event, JSON; seq is 8 bytes big-endian, so keys sort by Seq
//	kv/<plugin>key       plugin key-value entry, raw value
//	r/<bucket>key        record of another component (plugins, hook queue), JSON
//
// A field in angle brackets directly followed by another field (<tenant>,
// <podID> and <plugin> above) is length-prefixed: a uvarint byte count, then
// the bytes. So a tenant or name that contains "/" cannot make two keys
// collide, and a prefix scan over pc/<podID> never reaches a longer pod ID
// that starts with the same characters. The last field is written as is.
const (
	prefixPod           = "p/"
	prefixPodName       = "pn/"
	prefixPodTenant     = "pt/"
	prefixContainer     = "c/"
	prefixContainerName = "cn/"
	prefixCtrTenant     = "ct/"
	prefixPodContainer  = "pc/"
	prefixImage         = "i/"
	prefixImageName     = "in/"
	prefixEvent         = "e/"
	prefixPluginKV      = "kv/"
	prefixRecord        = "r/"
)

var (
	keySchema   = []byte("meta/schema")
	keyEventSeq = []byte("meta/eventseq")
)

// plainKey returns prefix followed by last.
func plainKey(prefix, last string) []byte {
	b := make([]byte, 0, len(prefix)+len(last))
	b = append(b, prefix...)
	return append(b, last...)
}

// scopedKey returns prefix, then scope length-prefixed, then last as is.
func scopedKey(prefix, scope, last string) []byte {
	b := make([]byte, 0, len(prefix)+binary.MaxVarintLen64+len(scope)+len(last))
	b = append(b, prefix...)
	b = binary.AppendUvarint(b, uint64(len(scope)))
	b = append(b, scope...)
	return append(b, last...)
}

func eventKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte(prefixEvent), seq)
}

// kind describes a tenant-scoped record type, pods or containers: where its
// records and indexes live and the noun its errors use.
type kind struct {
	noun         string
	recordPrefix string
	namePrefix   string
	tenantPrefix string
}

var (
	podKind = kind{
		noun:         "pod",
		recordPrefix: prefixPod,
		namePrefix:   prefixPodName,
		tenantPrefix: prefixPodTenant,
	}
	containerKind = kind{
		noun:         "container",
		recordPrefix: prefixContainer,
		namePrefix:   prefixContainerName,
		tenantPrefix: prefixCtrTenant,
	}
)

func (k kind) recordKey(id string) []byte { return plainKey(k.recordPrefix, id) }

func (k kind) nameKey(tenant, name string) []byte {
	return scopedKey(k.namePrefix, tenant, name)
}

func (k kind) tenantKey(tenant, id string) []byte {
	return scopedKey(k.tenantPrefix, tenant, id)
}
