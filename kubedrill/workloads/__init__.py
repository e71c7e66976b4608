"""The sample workloads kubedrill deploys: ReplicationController, Deployment, StatefulSet,
PostgreSQL, the file writer. Each creates its objects through k8s/ and waits through observe/."""
