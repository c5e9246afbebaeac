// Package deploylint checks the deployment artefacts in deploy/ with the real tools' own code:
// the Helm chart is linted and rendered by Helm's engine (helm.sh/helm/v3, as `helm lint` and
// `helm template` do) and every manifest is decoded strictly into the Kubernetes API types (an
// unknown or misspelt field fails); the Compose file is loaded by the Compose loader that
// `docker compose config` uses (compose-spec/compose-go). Nothing is fetched at run time and
// no cluster or Docker daemon is needed. Run with `make test-deploy`.
//
// A module of its own, so that Helm's and Kubernetes' dependencies stay out of petitiond's
// go.mod. The consistency of the artefacts with the code (search attributes, settings) is
// checked in deploy/deploy_test.go, in the main module.
package deploylint

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/lint/support"
	"helm.sh/helm/v3/pkg/releaseutil"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

const chartDir = "../../deploy/helm/petitiond"

// minimal are the values an install needs: the Secret's name.
func minimal() map[string]any {
	return map[string]any{"secrets": map[string]any{"existingSecret": "petitiond-secrets"}}
}

// full turns every optional part on.
func full() map[string]any {
	return map[string]any{
		"image":   map[string]any{"tag": "2026.1"},
		"secrets": map[string]any{"existingSecret": "petitiond-secrets"},
		"temporal": map[string]any{
			"address":          "temporal-frontend.temporal.svc:7233",
			"tls":              map[string]any{"existingSecret": "temporal-client-tls", "serverName": "temporal-frontend"},
			"searchAttributes": map[string]any{"createNamespace": true},
		},
		"config": map[string]any{
			"policiesJSON":     `{"standard": {}}`,
			"codecCORSOrigins": "https://temporal-ui.office.internal",
			"oidc": map[string]any{"issuer": "https://sso.office.internal/realms/staff", "clientID": "petitions",
				"redirectURL": "https://petitions.office.internal/api/v1/auth/oidc/callback"},
		},
		"api": map[string]any{"replicas": 3, "imageTag": "2025.4"},
		"extraEnv": []any{map[string]any{"name": "NOTIFY_WEBHOOK_URL", "valueFrom": map[string]any{
			"secretKeyRef": map[string]any{"name": "petitiond-secrets", "key": "notify-webhook-url"}}}},
		"ingress": map[string]any{"enabled": true, "className": "nginx",
			"hosts": []any{map[string]any{"host": "petitions.office.internal",
				"paths": []any{map[string]any{"path": "/", "pathType": "Prefix"}}}},
			"tls": []any{map[string]any{"secretName": "petitions-tls", "hosts": []any{"petitions.office.internal"}}}},
	}
}

// render renders the chart as `helm template` does and returns every manifest, hooks included.
func render(t *testing.T, vals map[string]any) ([]string, error) {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("load chart: %v", err)
	}
	cfg := &action.Configuration{}
	install := action.NewInstall(cfg)
	install.DryRun, install.ClientOnly, install.Replace = true, true, true
	install.ReleaseName, install.Namespace = "petitions", "petitions"
	// No KubeVersion: Helm's default capabilities, as a plain `helm template` renders.
	rel, err := install.Run(ch, vals)
	if err != nil {
		return nil, err
	}
	docs := []string{}
	add := func(manifest string) {
		for _, d := range releaseutil.SplitManifests(manifest) {
			if strings.TrimSpace(d) != "" {
				docs = append(docs, d)
			}
		}
	}
	add(rel.Manifest)
	for _, h := range rel.Hooks {
		add(h.Manifest)
	}
	return docs, nil
}

// strict decodes manifests into the Kubernetes types, refusing unknown and duplicate fields.
var strict = serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()

type objects struct {
	deployments map[string]*appsv1.Deployment
	jobs        map[string]*batchv1.Job
	services    []*corev1.Service
	pdbs        []*policyv1.PodDisruptionBudget
	configMaps  []*corev1.ConfigMap
	ingresses   []*networkingv1.Ingress
	podMonitors []podMonitor
	kinds       []string
}

// podMonitor is the part of a Prometheus Operator PodMonitor the checks read (its types are
// not in client-go's scheme).
type podMonitor struct {
	Metadata struct{ Name, Namespace string }
	Spec     struct {
		Selector struct {
			MatchExpressions []struct {
				Key, Operator string
				Values        []string
			} `json:"matchExpressions"`
		}
		PodMetricsEndpoints []struct{ Port, Path string } `json:"podMetricsEndpoints"`
	}
}

// selectsPod: the PodMonitor's expressions (operator In) all hold for the labels.
func (m podMonitor) selectsPod(labels map[string]string) bool {
	if len(m.Spec.Selector.MatchExpressions) == 0 {
		return false
	}
	for _, e := range m.Spec.Selector.MatchExpressions {
		if e.Operator != "In" || !slices.Contains(e.Values, labels[e.Key]) {
			return false
		}
	}
	return true
}

func decode(t *testing.T, docs []string) objects {
	t.Helper()
	o := objects{deployments: map[string]*appsv1.Deployment{}, jobs: map[string]*batchv1.Job{}}
	for _, d := range docs {
		var head struct{ APIVersion, Kind string }
		if err := yaml.Unmarshal([]byte(d), &head); err == nil && head.APIVersion == "monitoring.coreos.com/v1" {
			var pm podMonitor
			if head.Kind != "PodMonitor" || yaml.Unmarshal([]byte(d), &pm) != nil {
				t.Errorf("unexpected Prometheus Operator object %s:\n%s", head.Kind, d)
			} else if pm.Metadata.Namespace != "petitions" {
				t.Errorf("PodMonitor: metadata.namespace %q, want the release's", pm.Metadata.Namespace)
			}
			o.podMonitors = append(o.podMonitors, pm)
			o.kinds = append(o.kinds, head.Kind)
			continue
		}
		obj, gvk, err := strict.Decode([]byte(d), nil, nil)
		if err != nil {
			t.Fatalf("manifest does not decode strictly: %v\n%s", err, d)
		}
		o.kinds = append(o.kinds, gvk.Kind)
		switch v := obj.(type) {
		case *appsv1.Deployment:
			o.deployments[v.Labels["app.kubernetes.io/component"]] = v
		case *batchv1.Job:
			o.jobs[v.Labels["app.kubernetes.io/component"]] = v
		case *corev1.Service:
			o.services = append(o.services, v)
		case *policyv1.PodDisruptionBudget:
			o.pdbs = append(o.pdbs, v)
		case *corev1.ConfigMap:
			o.configMaps = append(o.configMaps, v)
		case *networkingv1.Ingress:
			o.ingresses = append(o.ingresses, v)
		case *corev1.ServiceAccount:
		default:
			t.Errorf("unexpected kind %s", gvk.Kind)
		}
		var meta struct {
			Metadata struct{ Namespace string }
		}
		if err := yaml.Unmarshal([]byte(d), &meta); err != nil || meta.Metadata.Namespace != "petitions" {
			t.Errorf("%s: metadata.namespace %q, want the release's", gvk.Kind, meta.Metadata.Namespace)
		}
	}
	return o
}

func TestChartLints(t *testing.T) {
	for name, vals := range map[string]map[string]any{"minimal": minimal(), "full": full()} {
		lint := action.NewLint()
		lint.Strict = true
		lint.Namespace = "petitions"
		res := lint.Run([]string{chartDir}, vals)
		for _, m := range res.Messages {
			if m.Severity >= support.WarningSev {
				t.Errorf("%s values: helm lint: %s", name, m)
			}
		}
		for _, err := range res.Errors {
			t.Errorf("%s values: helm lint: %v", name, err)
		}
	}
}

func TestChartNeedsTheSecret(t *testing.T) {
	_, err := render(t, map[string]any{})
	if err == nil || !strings.Contains(err.Error(), "secrets.existingSecret") {
		t.Fatalf("rendering without secrets.existingSecret: %v, want an error naming it", err)
	}
}

func TestChartRendersMinimal(t *testing.T) {
	docs, err := render(t, minimal())
	if err != nil {
		t.Fatal(err)
	}
	o := decode(t, docs)
	slices.Sort(o.kinds)
	want := []string{"ConfigMap", "Deployment", "Deployment", "Job", "Job", "PodDisruptionBudget", "PodDisruptionBudget", "Service", "ServiceAccount"}
	if !slices.Equal(o.kinds, want) {
		t.Errorf("kinds %v, want %v", o.kinds, want)
	}
	checkCommon(t, o, "petitions/petitiond:0.1.0", "petitions/petitiond:0.1.0")
	checkAPI(t, o.deployments["api"], 2)
	checkWorker(t, o.deployments["worker"])
	checkPDBs(t, o)
	checkService(t, o)
	checkMigrate(t, o.jobs["migrate"])
	checkSearchAttributes(t, o.jobs["search-attributes"], false)
	// Plaintext to Temporal: no TLS variables, no TLS volume.
	for _, d := range o.deployments {
		c := d.Spec.Template.Spec.Containers[0]
		if _, ok := env(c, "TEMPORAL_TLS_CA"); ok {
			t.Errorf("%s: TEMPORAL_TLS_CA set without temporal.tls.existingSecret", d.Name)
		}
		if _, ok := env(c, "PETITIONS_OIDC_CLIENT_SECRET"); ok {
			t.Errorf("%s: OIDC secret read without config.oidc.issuer", d.Name)
		}
	}
}

func TestChartRendersFull(t *testing.T) {
	docs, err := render(t, full())
	if err != nil {
		t.Fatal(err)
	}
	o := decode(t, docs)
	checkCommon(t, o, "petitions/petitiond:2025.4", "petitions/petitiond:2026.1")
	checkAPI(t, o.deployments["api"], 3)
	checkWorker(t, o.deployments["worker"])
	checkPDBs(t, o)
	checkService(t, o)
	checkMigrate(t, o.jobs["migrate"])
	checkSearchAttributes(t, o.jobs["search-attributes"], true)
	if len(o.ingresses) != 1 || o.ingresses[0].Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name != o.services[0].Name {
		t.Errorf("ingress does not lead to the API service")
	}
	for _, d := range o.deployments {
		spec := d.Spec.Template.Spec
		c := spec.Containers[0]
		for name, want := range map[string]string{
			"TEMPORAL_TLS_CA": "/etc/petitiond/temporal-tls/ca.crt", "TEMPORAL_TLS_CERT": "/etc/petitiond/temporal-tls/tls.crt",
			"TEMPORAL_TLS_KEY": "/etc/petitiond/temporal-tls/tls.key", "TEMPORAL_TLS_SERVER_NAME": "temporal-frontend",
		} {
			if e, _ := env(c, name); e.Value != want {
				t.Errorf("%s: %s=%q, want %q", d.Name, name, e.Value, want)
			}
		}
		if e, _ := env(c, "PETITIONS_OIDC_CLIENT_SECRET"); e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
			t.Errorf("%s: the OIDC client secret does not come from the Secret", d.Name)
		}
		if e, _ := env(c, "NOTIFY_WEBHOOK_URL"); e.ValueFrom == nil {
			t.Errorf("%s: extraEnv not passed", d.Name)
		}
		if !mounts(c, "/etc/petitiond/temporal-tls") || !mounts(c, "/etc/petitiond/policies") {
			t.Errorf("%s: TLS or policies not mounted: %v", d.Name, c.VolumeMounts)
		}
	}
	var cm *corev1.ConfigMap
	for _, m := range o.configMaps {
		if m.Name == "petitions-petitiond" {
			cm = m
		}
	}
	if cm == nil || cm.Data["PETITIONS_POLICY_FILE"] != "/etc/petitiond/policies/policies.json" ||
		cm.Data["PETITIONS_OIDC_ISSUER"] == "" || cm.Data["TEMPORAL_ADDRESS"] != "temporal-frontend.temporal.svc:7233" {
		t.Errorf("ConfigMap: %v", cm)
	}
}

// Values an operator is told they may set keep the chart valid.
func TestChartRendersVariants(t *testing.T) {
	for name, vals := range map[string]map[string]any{
		"no pdb, no preStop, no migrations, no search attributes": {
			"secrets":    map[string]any{"existingSecret": "s"},
			"api":        map[string]any{"pdb": map[string]any{"enabled": false}, "preStopSleepSeconds": 0, "spreadAcrossNodes": false},
			"worker":     map[string]any{"pdb": map[string]any{"enabled": false}, "replicas": 1},
			"migrations": map[string]any{"enabled": false},
			"temporal":   map[string]any{"searchAttributes": map[string]any{"register": false}},
		},
		"existing service account, server-side TLS only, readiness on /healthz": {
			"secrets":        map[string]any{"existingSecret": "s"},
			"serviceAccount": map[string]any{"create": false, "name": "petitions-runner"},
			"temporal":       map[string]any{"tls": map[string]any{"existingSecret": "ca", "clientCertificate": false}},
			"api": map[string]any{"readinessProbe": map[string]any{
				"httpGet": map[string]any{"path": "/healthz", "port": "http"}}},
		},
	} {
		t.Run(name, func(t *testing.T) {
			docs, err := render(t, vals)
			if err != nil {
				t.Fatal(err)
			}
			o := decode(t, docs)
			for _, d := range o.deployments {
				checkPodSecurity(t, "Deployment "+d.Name, d.Spec.Template.Spec)
			}
			for _, j := range o.jobs {
				checkPodSecurity(t, "Job "+j.Name, j.Spec.Template.Spec)
			}
		})
	}
}

func env(c corev1.Container, name string) (corev1.EnvVar, bool) {
	for _, e := range c.Env {
		if e.Name == name {
			return e, true
		}
	}
	return corev1.EnvVar{}, false
}

func mounts(c corev1.Container, path string) bool {
	return slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == path })
}

// checkPodSecurity: non-root, no privilege escalation, read-only root, no capabilities, no
// Kubernetes API token, resources requested; every volume mount has its volume.
func checkPodSecurity(t *testing.T, what string, spec corev1.PodSpec) {
	t.Helper()
	if sc := spec.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser == 0 ||
		sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: pod securityContext %+v", what, sc)
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Errorf("%s: mounts a service account token", what)
	}
	volumes := map[string]bool{}
	for _, v := range spec.Volumes {
		volumes[v.Name] = true
	}
	for _, c := range append(slices.Clone(spec.InitContainers), spec.Containers...) {
		sc := c.SecurityContext
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
			sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
			sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
			t.Errorf("%s container %s: securityContext %+v", what, c.Name, sc)
		}
		if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
			t.Errorf("%s container %s: want cpu and memory requests and a memory limit, got %+v", what, c.Name, c.Resources)
		}
		for _, m := range c.VolumeMounts {
			if !volumes[m.Name] {
				t.Errorf("%s container %s mounts %s, which is no volume", what, c.Name, m.Name)
			}
		}
		if !mounts(c, "/tmp") {
			t.Errorf("%s container %s: no writable /tmp", what, c.Name)
		}
	}
}

// checkCommon: what every petitiond container shares: the image, the secrets as references,
// the config map, no keys file (a mounted Secret file is never 0600 owned by the process).
func checkCommon(t *testing.T, o objects, apiImage, image string) {
	t.Helper()
	for _, name := range []string{"api", "worker"} {
		d := o.deployments[name]
		if d == nil {
			t.Fatalf("no %s Deployment", name)
		}
		spec := d.Spec.Template.Spec
		checkPodSecurity(t, "Deployment "+d.Name, spec)
		if len(spec.Containers) != 1 {
			t.Fatalf("%s: %d containers", d.Name, len(spec.Containers))
		}
		c := spec.Containers[0]
		want := image
		if name == "api" {
			want = apiImage
		}
		if c.Image != want {
			t.Errorf("%s: image %s, want %s", d.Name, c.Image, want)
		}
		if !slices.Equal(c.Args, []string{name}) || len(c.Command) != 0 {
			t.Errorf("%s: command %q args %q, want the image's entrypoint with %q", d.Name, c.Command, c.Args, name)
		}
		for _, secret := range []string{"DATABASE_URL", "PETITIONS_KEYS"} {
			e, ok := env(c, secret)
			if !ok || e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil || e.ValueFrom.SecretKeyRef.Name == "" {
				t.Errorf("%s: %s must come from the Secret, got %+v", d.Name, secret, e)
			}
		}
		if _, ok := env(c, "PETITIONS_KEY_FILE"); ok {
			t.Errorf("%s: PETITIONS_KEY_FILE set; the chart gives the keys as PETITIONS_KEYS", d.Name)
		}
		if len(c.EnvFrom) != 1 || c.EnvFrom[0].ConfigMapRef == nil {
			t.Errorf("%s: settings not from the ConfigMap", d.Name)
		}
		if e, _ := env(c, "GOMEMLIMIT"); e.ValueFrom == nil || e.ValueFrom.ResourceFieldRef == nil {
			t.Errorf("%s: GOMEMLIMIT not taken from the memory limit", d.Name)
		}
		if d.Spec.Template.Annotations["checksum/config"] == "" {
			t.Errorf("%s: no checksum/config annotation: a settings change would not restart the pods", d.Name)
		}
		if s := d.Spec.Strategy.RollingUpdate; s == nil || s.MaxUnavailable == nil || s.MaxUnavailable.IntValue() != 0 {
			t.Errorf("%s: a rolling update must start a new pod before it stops an old one", d.Name)
		}
		if len(spec.TopologySpreadConstraints) == 0 && spec.Affinity == nil {
			t.Logf("%s: no spreading over nodes", d.Name)
		}
	}
}

func checkAPI(t *testing.T, d *appsv1.Deployment, replicas int32) {
	t.Helper()
	if d.Spec.Replicas == nil || *d.Spec.Replicas != replicas {
		t.Errorf("api replicas %v, want %d", d.Spec.Replicas, replicas)
	}
	c := d.Spec.Template.Spec.Containers[0]
	if len(c.Ports) != 2 || c.Ports[0].Name != "http" || c.Ports[0].ContainerPort != 8080 {
		t.Errorf("api ports %+v, want http 8080 and admin", c.Ports)
	}
	checkAdminPort(t, d, true)
	if e, _ := env(c, "HTTP_ADDR"); e.Value != "0.0.0.0:8080" {
		t.Errorf("api HTTP_ADDR=%q: the API must listen on the pod's address", e.Value)
	}
	probe := func(p *corev1.Probe, what, path string) {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != path || p.HTTPGet.Port.String() != "http" {
			t.Errorf("api %s probe %+v, want GET %s on port http", what, p, path)
		}
	}
	probe(c.LivenessProbe, "liveness", "/healthz")
	probe(c.ReadinessProbe, "readiness", "/readyz")
	probe(c.StartupProbe, "startup", "/healthz")
	if c.ReadinessProbe.TimeoutSeconds <= 2 {
		t.Errorf("readiness timeout %ds: /readyz may take 2 s", c.ReadinessProbe.TimeoutSeconds)
	}
	// SIGTERM → up to 15 s of requests in flight, after the preStop pause.
	var pause int64
	if l := c.Lifecycle; l != nil && l.PreStop != nil && l.PreStop.Sleep != nil {
		pause = l.PreStop.Sleep.Seconds
	} else {
		t.Error("api: no preStop sleep: the Service may still send requests to a stopping pod")
	}
	if l := c.Lifecycle; l != nil && l.PreStop != nil && l.PreStop.Exec != nil {
		t.Error("api: preStop exec: the image has no shell")
	}
	if g := d.Spec.Template.Spec.TerminationGracePeriodSeconds; g == nil || *g < pause+15+5 {
		t.Errorf("api terminationGracePeriodSeconds %v: want at least preStop %d s + 15 s of shutdown + margin", g, pause)
	}
}

func checkWorker(t *testing.T, d *appsv1.Deployment) {
	t.Helper()
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Errorf("worker replicas %v, want 2", d.Spec.Replicas)
	}
	c := d.Spec.Template.Spec.Containers[0]
	// The worker serves no API, only its admin listener (metrics, pprof): no probes.
	if c.LivenessProbe != nil || c.ReadinessProbe != nil || len(c.Ports) != 1 {
		t.Errorf("worker: probes or ports other than admin: %+v %+v %+v", c.LivenessProbe, c.ReadinessProbe, c.Ports)
	}
	checkAdminPort(t, d, true)
	if _, ok := env(c, "HTTP_ADDR"); ok {
		t.Error("worker: HTTP_ADDR set")
	}
	if g := d.Spec.Template.Spec.TerminationGracePeriodSeconds; g == nil || *g < 30 {
		t.Errorf("worker terminationGracePeriodSeconds %v: want time to finish running activities", g)
	}
}

// checkAdminPort: with metrics on, the pod has the admin port 9090 and the scrape
// annotations; with metrics off, neither.
func checkAdminPort(t *testing.T, d *appsv1.Deployment, on bool) {
	t.Helper()
	c := d.Spec.Template.Spec.Containers[0]
	i := slices.IndexFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == "admin" })
	a := d.Spec.Template.Annotations
	if !on {
		if i >= 0 || a["prometheus.io/scrape"] != "" {
			t.Errorf("%s: admin port or scrape annotations with metrics off: %+v %v", d.Name, c.Ports, a)
		}
		return
	}
	if i < 0 || c.Ports[i].ContainerPort != 9090 {
		t.Errorf("%s: no admin port 9090: %+v", d.Name, c.Ports)
	}
	if a["prometheus.io/scrape"] != "true" || a["prometheus.io/port"] != "9090" || a["prometheus.io/path"] != "/metrics" {
		t.Errorf("%s: scrape annotations %v", d.Name, a)
	}
}

// configValue is a key of the chart's main ConfigMap.
func configValue(o objects, key string) string {
	for _, m := range o.configMaps {
		if m.Name == "petitions-petitiond" {
			return m.Data[key]
		}
	}
	return ""
}

// The admin listener: on by default on 0.0.0.0:9090 in both Deployments (tested with the
// minimal and full values), off by metrics.enabled=false; a PodMonitor on request that scrapes
// both and nothing else.
func TestChartMetrics(t *testing.T) {
	docs, err := render(t, minimal())
	if err != nil {
		t.Fatal(err)
	}
	o := decode(t, docs)
	if v := configValue(o, "PETITIONS_ADMIN_ADDR"); v != "0.0.0.0:9090" {
		t.Errorf("PETITIONS_ADMIN_ADDR=%q, want 0.0.0.0:9090 (the pod's address)", v)
	}
	if len(o.podMonitors) != 0 {
		t.Error("a PodMonitor without metrics.podMonitor.enabled")
	}

	off := minimal()
	off["metrics"] = map[string]any{"enabled": false}
	docs, err = render(t, off)
	if err != nil {
		t.Fatal(err)
	}
	o = decode(t, docs)
	if v := configValue(o, "PETITIONS_ADMIN_ADDR"); v != "off" {
		t.Errorf("metrics off: PETITIONS_ADMIN_ADDR=%q, want off", v)
	}
	for _, d := range o.deployments {
		checkAdminPort(t, d, false)
	}
	if c := o.deployments["worker"].Spec.Template.Spec.Containers[0]; len(c.Ports) != 0 {
		t.Errorf("metrics off: worker ports %+v", c.Ports)
	}

	pm := minimal()
	pm["metrics"] = map[string]any{"podMonitor": map[string]any{"enabled": true, "labels": map[string]any{"release": "prometheus"}}}
	docs, err = render(t, pm)
	if err != nil {
		t.Fatal(err)
	}
	o = decode(t, docs)
	if len(o.podMonitors) != 1 {
		t.Fatalf("%d PodMonitors, want 1", len(o.podMonitors))
	}
	m := o.podMonitors[0]
	if len(m.Spec.PodMetricsEndpoints) != 1 || m.Spec.PodMetricsEndpoints[0].Port != "admin" || m.Spec.PodMetricsEndpoints[0].Path != "/metrics" {
		t.Errorf("PodMonitor endpoints %+v", m.Spec.PodMetricsEndpoints)
	}
	for name, d := range o.deployments {
		if !m.selectsPod(d.Spec.Template.Labels) {
			t.Errorf("the PodMonitor does not select the %s pods", name)
		}
	}
	for _, j := range o.jobs {
		if m.selectsPod(j.Spec.Template.Labels) {
			t.Errorf("the PodMonitor selects the %s Job's pods", j.Name)
		}
	}
}

func selects(sel map[string]string, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func checkPDBs(t *testing.T, o objects) {
	t.Helper()
	for _, name := range []string{"api", "worker"} {
		d := o.deployments[name]
		n := 0
		for _, p := range o.pdbs {
			if selects(p.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
				n++
				if p.Spec.MaxUnavailable == nil || p.Spec.MaxUnavailable.IntValue() != 1 || p.Spec.MinAvailable != nil {
					t.Errorf("PDB %s: want maxUnavailable 1", p.Name)
				}
			}
		}
		if n != 1 {
			t.Errorf("%d PodDisruptionBudgets select the %s pods, want 1", n, name)
		}
		// The selectors of the two Deployments must not overlap.
		other := o.deployments[map[string]string{"api": "worker", "worker": "api"}[name]]
		if selects(d.Spec.Selector.MatchLabels, other.Spec.Template.Labels) {
			t.Errorf("the %s Deployment's selector also selects %s pods", name, other.Name)
		}
	}
}

func checkService(t *testing.T, o objects) {
	t.Helper()
	if len(o.services) != 1 {
		t.Fatalf("%d Services, want 1", len(o.services))
	}
	s := o.services[0]
	if !selects(s.Spec.Selector, o.deployments["api"].Spec.Template.Labels) || selects(s.Spec.Selector, o.deployments["worker"].Spec.Template.Labels) {
		t.Errorf("Service %s selects %v: want the API pods only", s.Name, s.Spec.Selector)
	}
	if len(s.Spec.Ports) != 1 || s.Spec.Ports[0].TargetPort.String() != "http" {
		t.Errorf("Service ports %+v", s.Spec.Ports)
	}
}

func hook(t *testing.T, j *batchv1.Job, weight string) {
	t.Helper()
	a := j.Annotations
	if a["helm.sh/hook"] != "pre-install,pre-upgrade" || a["helm.sh/hook-weight"] != weight ||
		a["helm.sh/hook-delete-policy"] != "before-hook-creation,hook-succeeded" {
		t.Errorf("Job %s hook annotations %v", j.Name, a)
	}
	spec := j.Spec.Template.Spec
	checkPodSecurity(t, "Job "+j.Name, spec)
	if spec.RestartPolicy != corev1.RestartPolicyNever || j.Spec.BackoffLimit == nil || j.Spec.ActiveDeadlineSeconds == nil {
		t.Errorf("Job %s: restartPolicy %s, backoffLimit %v, activeDeadlineSeconds %v", j.Name, spec.RestartPolicy, j.Spec.BackoffLimit, j.Spec.ActiveDeadlineSeconds)
	}
	// Hooks run before the chart's own resources exist on a first install.
	if spec.ServiceAccountName == "petitions-petitiond" {
		t.Errorf("Job %s uses the chart's ServiceAccount, which a pre-install hook cannot", j.Name)
	}
	for _, c := range append(slices.Clone(spec.InitContainers), spec.Containers...) {
		for _, e := range c.EnvFrom {
			if e.ConfigMapRef != nil {
				t.Errorf("Job %s reads the chart's ConfigMap, which a pre-install hook cannot", j.Name)
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil {
				t.Errorf("Job %s reads a ConfigMap key", j.Name)
			}
		}
	}
}

func checkMigrate(t *testing.T, j *batchv1.Job) {
	t.Helper()
	if j == nil {
		t.Fatal("no migration Job")
	}
	hook(t, j, "0")
	c := j.Spec.Template.Spec.Containers[0]
	if !slices.Equal(c.Args, []string{"migrate"}) {
		t.Errorf("migration Job runs %q", c.Args)
	}
	if e, _ := env(c, "DATABASE_URL"); e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
		t.Error("migration Job: DATABASE_URL not from the Secret")
	}
}

func checkSearchAttributes(t *testing.T, j *batchv1.Job, createNamespace bool) {
	t.Helper()
	if j == nil {
		t.Fatal("no search-attributes Job")
	}
	hook(t, j, "-5")
	raw, err := os.ReadFile(filepath.Join(chartDir, "files/search-attributes.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var attrs []struct{ Name, Type string }
	if err := yaml.Unmarshal(raw, &attrs); err != nil {
		t.Fatal(err)
	}
	want := []string{"temporal", "operator", "search-attribute", "create"}
	for _, a := range attrs {
		want = append(want, "--name", a.Name, "--type", a.Type)
	}
	c := j.Spec.Template.Spec.Containers[0]
	if !slices.Equal(c.Command, want) {
		t.Errorf("search-attributes Job runs\n  %q\nwant\n  %q", c.Command, want)
	}
	if !strings.HasPrefix(c.Image, "temporalio/admin-tools:") {
		t.Errorf("search-attributes Job image %s", c.Image)
	}
	for _, name := range []string{"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE"} {
		if e, _ := env(c, name); e.Value == "" {
			t.Errorf("search-attributes Job: %s not set", name)
		}
	}
	if got := len(j.Spec.Template.Spec.InitContainers) == 1; got != createNamespace {
		t.Errorf("namespace init container present: %v, want %v", got, createNamespace)
	}
}

// TestPrintChart prints the rendered chart for a look: DEPLOYLINT_PRINT=1 go test -run TestPrintChart.
func TestPrintChart(t *testing.T) {
	if os.Getenv("DEPLOYLINT_PRINT") == "" {
		t.Skip("set DEPLOYLINT_PRINT=1 to print the rendered chart")
	}
	docs, err := render(t, minimal())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(strings.Join(docs, "\n---\n"))
}
