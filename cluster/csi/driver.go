package main

import (
	"bufio"
	"context"
	"errors"
	"log"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

const defaultCapacity = 1 << 30 // 1 GiB when a request names no size (recorded, not enforced)

type driver struct {
	csi.UnimplementedIdentityServer
	csi.UnimplementedControllerServer
	csi.UnimplementedNodeServer
	cfg   config
	store *store
}

// ------------------------------------------------------------------ Identity

func (d *driver) GetPluginInfo(context.Context, *csi.GetPluginInfoRequest) (*csi.GetPluginInfoResponse, error) {
	return &csi.GetPluginInfoResponse{Name: d.cfg.driverName, VendorVersion: version}, nil
}

func (d *driver) GetPluginCapabilities(context.Context, *csi.GetPluginCapabilitiesRequest) (*csi.GetPluginCapabilitiesResponse, error) {
	svc := func(t csi.PluginCapability_Service_Type) *csi.PluginCapability {
		return &csi.PluginCapability{Type: &csi.PluginCapability_Service_{Service: &csi.PluginCapability_Service{Type: t}}}
	}
	return &csi.GetPluginCapabilitiesResponse{Capabilities: []*csi.PluginCapability{
		svc(csi.PluginCapability_Service_CONTROLLER_SERVICE),
		svc(csi.PluginCapability_Service_VOLUME_ACCESSIBILITY_CONSTRAINTS),
	}}, nil
}

func (d *driver) Probe(context.Context, *csi.ProbeRequest) (*csi.ProbeResponse, error) {
	for _, dir := range []string{d.cfg.dataDir, d.cfg.snapshotDir} {
		if _, err := os.Stat(dir); err != nil {
			return nil, status.Errorf(codes.FailedPrecondition, "%s: %v", dir, err)
		}
	}
	return &csi.ProbeResponse{}, nil
}

// ------------------------------------------------------------------ Controller

func (d *driver) ControllerGetCapabilities(context.Context, *csi.ControllerGetCapabilitiesRequest) (*csi.ControllerGetCapabilitiesResponse, error) {
	var caps []*csi.ControllerServiceCapability
	for _, t := range []csi.ControllerServiceCapability_RPC_Type{
		csi.ControllerServiceCapability_RPC_CREATE_DELETE_VOLUME,
		csi.ControllerServiceCapability_RPC_CREATE_DELETE_SNAPSHOT,
		csi.ControllerServiceCapability_RPC_LIST_SNAPSHOTS,
	} {
		caps = append(caps, &csi.ControllerServiceCapability{
			Type: &csi.ControllerServiceCapability_Rpc{Rpc: &csi.ControllerServiceCapability_RPC{Type: t}}})
	}
	return &csi.ControllerGetCapabilitiesResponse{Capabilities: caps}, nil
}

func (d *driver) topology() []*csi.Topology {
	return []*csi.Topology{{Segments: map[string]string{d.cfg.topologyKey: d.cfg.nodeID}}}
}

func validateCaps(caps []*csi.VolumeCapability) error {
	if len(caps) == 0 {
		return status.Error(codes.InvalidArgument, "volume capabilities missing")
	}
	for _, c := range caps {
		if c.GetBlock() != nil {
			return status.Error(codes.InvalidArgument, "block volumes are not supported: this driver serves directories (filesystem volumes)")
		}
		if c.GetMount() == nil {
			return status.Error(codes.InvalidArgument, "only mount access type is supported")
		}
		switch c.GetAccessMode().GetMode() {
		case csi.VolumeCapability_AccessMode_SINGLE_NODE_WRITER,
			csi.VolumeCapability_AccessMode_SINGLE_NODE_READER_ONLY,
			csi.VolumeCapability_AccessMode_SINGLE_NODE_SINGLE_WRITER,
			csi.VolumeCapability_AccessMode_SINGLE_NODE_MULTI_WRITER:
		default:
			return status.Errorf(codes.InvalidArgument, "access mode %v is not supported: volumes are local to one node", c.GetAccessMode().GetMode())
		}
	}
	return nil
}

// onThisNode reports whether the topology requirement (if any) allows this node. With the
// provisioner in --node-deployment mode only this node's claims reach this plugin.
func (d *driver) onThisNode(req *csi.TopologyRequirement) bool {
	if req == nil || (len(req.GetRequisite()) == 0 && len(req.GetPreferred()) == 0) {
		return true
	}
	for _, t := range append(req.GetRequisite(), req.GetPreferred()...) {
		if t.GetSegments()[d.cfg.topologyKey] == d.cfg.nodeID {
			return true
		}
	}
	return false
}

func (d *driver) CreateVolume(_ context.Context, req *csi.CreateVolumeRequest) (*csi.CreateVolumeResponse, error) {
	id := req.GetName()
	if err := validID(id); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "volume name: %v", err)
	}
	if err := validateCaps(req.GetVolumeCapabilities()); err != nil {
		return nil, err
	}
	if !d.onThisNode(req.GetAccessibilityRequirements()) {
		return nil, status.Errorf(codes.ResourceExhausted, "node %s is not in the accessibility requirements %v", d.cfg.nodeID, req.GetAccessibilityRequirements())
	}
	size := req.GetCapacityRange().GetRequiredBytes()
	if lim := req.GetCapacityRange().GetLimitBytes(); lim > 0 && size > lim {
		return nil, status.Errorf(codes.OutOfRange, "required %d bytes exceeds the limit %d", size, lim)
	}

	var snap *snapshotRecord
	if src := req.GetVolumeContentSource(); src != nil {
		if src.GetVolume() != nil {
			return nil, status.Error(codes.InvalidArgument, "cloning a volume is not supported; restore from a VolumeSnapshot instead")
		}
		sid := src.GetSnapshot().GetSnapshotId()
		if err := validID(sid); err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "snapshot id: %v", err)
		}
		var err error
		snap, err = d.store.getSnapshot(sid)
		if errors.Is(err, errNotFound) {
			if d.store.shared() {
				return nil, status.Errorf(codes.NotFound, "snapshot %s is not in the shared snapshot store", sid)
			}
			// a node-local store cannot tell whether another node holds the snapshot: the
			// provisioner hands ResourceExhausted back to the scheduler, which picks again
			return nil, status.Errorf(codes.ResourceExhausted, "snapshot %s is not in node %s's own snapshot store %s (node-local: restore on the node that took it)", sid, d.cfg.nodeID, d.cfg.snapshotDir)
		}
		if err != nil {
			return nil, status.Errorf(codes.Internal, "snapshot %s: %v", sid, err)
		}
		if size == 0 {
			size = snap.SizeBytes
		}
		if size < snap.SizeBytes {
			return nil, status.Errorf(codes.OutOfRange, "requested %d bytes is smaller than snapshot %s (%d bytes)", size, sid, snap.SizeBytes)
		}
	}
	if size == 0 {
		size = defaultCapacity
	}

	d.store.mu.Lock()
	defer d.store.mu.Unlock()
	if v, err := d.store.getVolume(id); err == nil {
		if v.CapacityBytes < size || (snap != nil && v.SourceSnapshot != snap.ID) || (snap == nil && v.SourceSnapshot != "") {
			return nil, status.Errorf(codes.AlreadyExists, "volume %s exists with another size or source", id)
		}
		return d.volumeResponse(v, req.GetVolumeContentSource()), nil
	} else if !errors.Is(err, errNotFound) {
		return nil, status.Errorf(codes.Internal, "volume %s: %v", id, err)
	}
	v := volumeRecord{ID: id, Name: req.GetName(), CapacityBytes: size, Node: d.cfg.nodeID, Created: time.Now().UTC()}
	if snap != nil {
		v.SourceSnapshot = snap.ID
	}
	if err := d.store.createVolume(v, snap); err != nil {
		return nil, status.Errorf(codes.Internal, "creating volume %s: %v", id, err)
	}
	log.Printf("created volume %s (%d bytes) at %s%s", id, size, d.store.volumePath(id), map[bool]string{true: " from snapshot " + v.SourceSnapshot}[snap != nil])
	return d.volumeResponse(&v, req.GetVolumeContentSource()), nil
}

func (d *driver) volumeResponse(v *volumeRecord, src *csi.VolumeContentSource) *csi.CreateVolumeResponse {
	return &csi.CreateVolumeResponse{Volume: &csi.Volume{
		VolumeId:           v.ID,
		CapacityBytes:      v.CapacityBytes,
		ContentSource:      src,
		AccessibleTopology: d.topology(),
		VolumeContext:      map[string]string{"node": v.Node},
	}}
}

func (d *driver) DeleteVolume(_ context.Context, req *csi.DeleteVolumeRequest) (*csi.DeleteVolumeResponse, error) {
	id := req.GetVolumeId()
	if err := validID(id); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "volume id: %v", err)
	}
	d.store.mu.Lock()
	defer d.store.mu.Unlock()
	if err := d.store.deleteVolume(id); err != nil {
		return nil, status.Errorf(codes.Internal, "deleting volume %s: %v", id, err)
	}
	log.Printf("deleted volume %s", id)
	return &csi.DeleteVolumeResponse{}, nil
}

func (d *driver) ValidateVolumeCapabilities(_ context.Context, req *csi.ValidateVolumeCapabilitiesRequest) (*csi.ValidateVolumeCapabilitiesResponse, error) {
	if err := validID(req.GetVolumeId()); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "volume id: %v", err)
	}
	if len(req.GetVolumeCapabilities()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "volume capabilities missing")
	}
	if _, err := d.store.getVolume(req.GetVolumeId()); err != nil {
		return nil, status.Errorf(codes.NotFound, "volume %s: %v", req.GetVolumeId(), err)
	}
	if err := validateCaps(req.GetVolumeCapabilities()); err != nil {
		return &csi.ValidateVolumeCapabilitiesResponse{Message: err.Error()}, nil
	}
	return &csi.ValidateVolumeCapabilitiesResponse{Confirmed: &csi.ValidateVolumeCapabilitiesResponse_Confirmed{
		VolumeContext: req.GetVolumeContext(), VolumeCapabilities: req.GetVolumeCapabilities(), Parameters: req.GetParameters()}}, nil
}

func (d *driver) CreateSnapshot(_ context.Context, req *csi.CreateSnapshotRequest) (*csi.CreateSnapshotResponse, error) {
	id, src := req.GetName(), req.GetSourceVolumeId()
	if err := validID(id); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "snapshot name: %v", err)
	}
	if err := validID(src); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "source volume id: %v", err)
	}
	d.store.mu.Lock()
	defer d.store.mu.Unlock()
	if r, err := d.store.getSnapshot(id); err == nil {
		if r.SourceVolumeID != src {
			return nil, status.Errorf(codes.AlreadyExists, "snapshot %s exists for volume %s, not %s", id, r.SourceVolumeID, src)
		}
		return &csi.CreateSnapshotResponse{Snapshot: snapshotCSI(r)}, nil
	}
	v, err := d.store.getVolume(src)
	if errors.Is(err, errNotFound) {
		return nil, status.Errorf(codes.NotFound, "volume %s is not on node %s", src, d.cfg.nodeID)
	} else if err != nil {
		return nil, status.Errorf(codes.Internal, "volume %s: %v", src, err)
	}
	r := snapshotRecord{ID: id, Name: id, SourceVolumeID: src, SizeBytes: v.CapacityBytes, Node: d.cfg.nodeID, Created: time.Now().UTC()}
	if err := d.store.createSnapshot(r); err != nil {
		return nil, status.Errorf(codes.Internal, "snapshot %s: %v", id, err)
	}
	log.Printf("snapshot %s of volume %s written to %s", id, src, d.store.snapshotTar(id))
	return &csi.CreateSnapshotResponse{Snapshot: snapshotCSI(&r)}, nil
}

func snapshotCSI(r *snapshotRecord) *csi.Snapshot {
	return &csi.Snapshot{
		SnapshotId: r.ID, SourceVolumeId: r.SourceVolumeID, SizeBytes: r.SizeBytes,
		CreationTime: timestamppb.New(r.Created), ReadyToUse: true,
	}
}

func (d *driver) DeleteSnapshot(_ context.Context, req *csi.DeleteSnapshotRequest) (*csi.DeleteSnapshotResponse, error) {
	id := req.GetSnapshotId()
	if err := validID(id); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "snapshot id: %v", err)
	}
	d.store.mu.Lock()
	defer d.store.mu.Unlock()
	if err := d.store.deleteSnapshot(id); err != nil {
		return nil, status.Errorf(codes.Internal, "deleting snapshot %s: %v", id, err)
	}
	log.Printf("deleted snapshot %s", id)
	return &csi.DeleteSnapshotResponse{}, nil
}

func (d *driver) ListSnapshots(_ context.Context, req *csi.ListSnapshotsRequest) (*csi.ListSnapshotsResponse, error) {
	all, err := d.store.listSnapshots()
	if err != nil {
		return nil, status.Errorf(codes.Internal, "listing snapshots: %v", err)
	}
	var sel []snapshotRecord
	for _, r := range all {
		if (req.GetSnapshotId() == "" || r.ID == req.GetSnapshotId()) &&
			(req.GetSourceVolumeId() == "" || r.SourceVolumeID == req.GetSourceVolumeId()) {
			sel = append(sel, r)
		}
	}
	start := 0
	if t := req.GetStartingToken(); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 || n > len(sel) {
			return nil, status.Errorf(codes.Aborted, "invalid starting token %q", t)
		}
		start = n
	}
	end := len(sel)
	if m := int(req.GetMaxEntries()); m > 0 && start+m < end {
		end = start + m
	}
	resp := &csi.ListSnapshotsResponse{}
	for i := start; i < end; i++ {
		resp.Entries = append(resp.Entries, &csi.ListSnapshotsResponse_Entry{Snapshot: snapshotCSI(&sel[i])})
	}
	if end < len(sel) {
		resp.NextToken = strconv.Itoa(end)
	}
	return resp, nil
}

// ------------------------------------------------------------------ Node

func (d *driver) NodeGetInfo(context.Context, *csi.NodeGetInfoRequest) (*csi.NodeGetInfoResponse, error) {
	return &csi.NodeGetInfoResponse{NodeId: d.cfg.nodeID, AccessibleTopology: d.topology()[0]}, nil
}

func (d *driver) NodeGetCapabilities(context.Context, *csi.NodeGetCapabilitiesRequest) (*csi.NodeGetCapabilitiesResponse, error) {
	return &csi.NodeGetCapabilitiesResponse{Capabilities: []*csi.NodeServiceCapability{{
		Type: &csi.NodeServiceCapability_Rpc{Rpc: &csi.NodeServiceCapability_RPC{Type: csi.NodeServiceCapability_RPC_GET_VOLUME_STATS}},
	}}}, nil
}

// NodePublishVolume bind-mounts the volume's directory onto the kubelet's target path.
func (d *driver) NodePublishVolume(_ context.Context, req *csi.NodePublishVolumeRequest) (*csi.NodePublishVolumeResponse, error) {
	id, target := req.GetVolumeId(), req.GetTargetPath()
	if err := validID(id); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "volume id: %v", err)
	}
	if target == "" {
		return nil, status.Error(codes.InvalidArgument, "target path missing")
	}
	if err := validateCaps([]*csi.VolumeCapability{req.GetVolumeCapability()}); err != nil {
		return nil, err
	}
	if _, err := d.store.getVolume(id); err != nil {
		return nil, status.Errorf(codes.NotFound, "volume %s is not on node %s: %v", id, d.cfg.nodeID, err)
	}
	if err := os.MkdirAll(target, 0o750); err != nil {
		return nil, status.Errorf(codes.Internal, "creating %s: %v", target, err)
	}
	mounted, err := isMountPoint(target)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "checking %s: %v", target, err)
	}
	if !mounted {
		if err := syscall.Mount(d.store.volumePath(id), target, "", syscall.MS_BIND, ""); err != nil {
			return nil, status.Errorf(codes.Internal, "bind mount %s on %s: %v", d.store.volumePath(id), target, err)
		}
		if req.GetReadonly() {
			if err := syscall.Mount("", target, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
				syscall.Unmount(target, 0)
				return nil, status.Errorf(codes.Internal, "read-only remount of %s: %v", target, err)
			}
		}
	}
	pod := req.GetVolumeContext()["csi.storage.k8s.io/pod.namespace"] + "/" + req.GetVolumeContext()["csi.storage.k8s.io/pod.name"]
	log.Printf("published volume %s at %s for pod %s (read-only %v)", id, target, pod, req.GetReadonly())
	return &csi.NodePublishVolumeResponse{}, nil
}

func (d *driver) NodeUnpublishVolume(_ context.Context, req *csi.NodeUnpublishVolumeRequest) (*csi.NodeUnpublishVolumeResponse, error) {
	target := req.GetTargetPath()
	if req.GetVolumeId() == "" || target == "" {
		return nil, status.Error(codes.InvalidArgument, "volume id and target path are required")
	}
	for {
		mounted, err := isMountPoint(target)
		if err != nil {
			return nil, status.Errorf(codes.Internal, "checking %s: %v", target, err)
		}
		if !mounted {
			break
		}
		if err := syscall.Unmount(target, 0); err != nil {
			return nil, status.Errorf(codes.Internal, "unmounting %s: %v", target, err)
		}
	}
	if err := os.Remove(target); err != nil && !os.IsNotExist(err) {
		return nil, status.Errorf(codes.Internal, "removing %s: %v", target, err)
	}
	log.Printf("unpublished volume %s from %s", req.GetVolumeId(), target)
	return &csi.NodeUnpublishVolumeResponse{}, nil
}

func (d *driver) NodeGetVolumeStats(_ context.Context, req *csi.NodeGetVolumeStatsRequest) (*csi.NodeGetVolumeStatsResponse, error) {
	path := req.GetVolumePath()
	if req.GetVolumeId() == "" || path == "" {
		return nil, status.Error(codes.InvalidArgument, "volume id and volume path are required")
	}
	if _, err := d.store.getVolume(req.GetVolumeId()); err != nil {
		return nil, status.Errorf(codes.NotFound, "volume %s: %v", req.GetVolumeId(), err)
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		if os.IsNotExist(err) {
			return nil, status.Errorf(codes.NotFound, "%s: %v", path, err)
		}
		return nil, status.Errorf(codes.Internal, "statfs %s: %v", path, err)
	}
	bs := int64(st.Bsize)
	return &csi.NodeGetVolumeStatsResponse{Usage: []*csi.VolumeUsage{
		{Unit: csi.VolumeUsage_BYTES, Total: int64(st.Blocks) * bs, Available: int64(st.Bavail) * bs, Used: int64(st.Blocks-st.Bfree) * bs},
		{Unit: csi.VolumeUsage_INODES, Total: int64(st.Files), Available: int64(st.Ffree), Used: int64(st.Files - st.Ffree)},
	}}, nil
}

// ------------------------------------------------------------------ mount table

// mounts lists (mount point, root within its filesystem) from /proc/self/mountinfo.
func mounts() ([][2]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out [][2]string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		out = append(out, [2]string{unescape(fields[4]), unescape(fields[3])})
	}
	return out, sc.Err()
}

// unescape undoes mountinfo's octal escapes (\040 for a space, ...).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isMountPoint(path string) (bool, error) {
	ms, err := mounts()
	if err != nil {
		return false, err
	}
	for _, m := range ms {
		if m[0] == path {
			return true, nil
		}
	}
	return false, nil
}
