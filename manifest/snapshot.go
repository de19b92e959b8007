package manifest

import "github.com/ingressguard/ingressguard/convert"

// SnapshotOf is convert.NewSnapshot of the objects of docs.
//
// Deprecated: use convert.NewSnapshot(Objects(docs), gatewayNamespace). It
// stays only until convert's golden tests call that, so that package
// manifest can stop importing package convert.
func SnapshotOf(docs []Document, gatewayNamespace string) convert.Snapshot {
	return convert.NewSnapshot(Objects(docs), gatewayNamespace)
}
