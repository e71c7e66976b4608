package main

import (
	"context"
	"log"
	"os"

	"google.golang.org/grpc"
	registerapi "k8s.io/kubelet/pkg/apis/pluginregistration/v1"
)

// registrar answers the kubelet's plugin watcher on <plugins_registry>/<driver>-reg.sock, as
// node-driver-registrar does: GetInfo names the driver and its CSI socket on the node, and a
// failed registration stops the process so that the container restarts and tries again.
type registrar struct {
	registerapi.UnimplementedRegistrationServer
	cfg config
}

func registerWithKubelet(s *grpc.Server, c config) {
	registerapi.RegisterRegistrationServer(s, &registrar{cfg: c})
}

func (r *registrar) GetInfo(context.Context, *registerapi.InfoRequest) (*registerapi.PluginInfo, error) {
	log.Printf("kubelet asks for the plugin info: %s at %s", r.cfg.driverName, r.cfg.kubeletPath)
	return &registerapi.PluginInfo{
		Type:              registerapi.CSIPlugin,
		Name:              r.cfg.driverName,
		Endpoint:          r.cfg.kubeletPath,
		SupportedVersions: []string{"1.0.0"},
	}, nil
}

func (r *registrar) NotifyRegistrationStatus(_ context.Context, st *registerapi.RegistrationStatus) (*registerapi.RegistrationStatusResponse, error) {
	if !st.PluginRegistered {
		log.Fatalf("the kubelet refused the registration: %s; exiting so that the container restarts", st.Error)
	}
	log.Print("registered with the kubelet")
	if r.cfg.readyFile != "" {
		// the pod's readiness probe reads this file: Ready means registered
		if err := os.WriteFile(r.cfg.readyFile, []byte("registered\n"), 0o644); err != nil {
			log.Printf("writing %s: %v", r.cfg.readyFile, err)
		}
	}
	return &registerapi.RegistrationStatusResponse{}, nil
}
