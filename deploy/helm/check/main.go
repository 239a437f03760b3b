// Command check reads Kubernetes manifests (the output of `helm template`) on stdin
// and checks each document against the Kubernetes API types of k8s.io/api: a field
// the API does not have, or a value of the wrong type, is an error (strict decoding,
// as the API server's field validation does). It then checks what ties the objects
// together: every selector selects pods that exist, every probe and Service port
// names a container port, every HPA and PDB targets a Deployment, and every container
// has an image, resources and both probes. Exit status 1 with one line per problem.
//
//	helm template indgang deploy/helm/indgang -f values.yaml | go run ./deploy/helm/check
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

// The kinds the chart renders, by apiVersion and kind.
func newObject(apiVersion, kind string) (any, bool) {
	switch apiVersion + " " + kind {
	case "apps/v1 Deployment":
		return &appsv1.Deployment{}, true
	case "v1 Service":
		return &corev1.Service{}, true
	case "v1 ConfigMap":
		return &corev1.ConfigMap{}, true
	case "v1 ServiceAccount":
		return &corev1.ServiceAccount{}, true
	case "policy/v1 PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, true
	case "autoscaling/v2 HorizontalPodAutoscaler":
		return &autoscalingv2.HorizontalPodAutoscaler{}, true
	case "batch/v1 Job":
		return &batchv1.Job{}, true
	case "networking.k8s.io/v1 NetworkPolicy":
		return &networkingv1.NetworkPolicy{}, true
	}
	return nil, false
}

type checker struct {
	problems    []string
	deployments map[string]*appsv1.Deployment
	podLabels   []labels.Set // of every Deployment's and Job's pod template
	services    []*corev1.Service
	pdbs        []*policyv1.PodDisruptionBudget
	hpas        []*autoscalingv2.HorizontalPodAutoscaler
	policies    []*networkingv1.NetworkPolicy
	counts      map[string]int
}

func (c *checker) fail(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

func splitDocuments(input []byte) [][]byte {
	var docs [][]byte
	var current bytes.Buffer
	scanner := bufio.NewScanner(bytes.NewReader(input))
	scanner.Buffer(make([]byte, 1024*1024), 16*1024*1024)
	flush := func() {
		if strings.TrimSpace(stripComments(current.String())) != "" {
			docs = append(docs, append([]byte(nil), current.Bytes()...))
		}
		current.Reset()
	}
	for scanner.Scan() {
		line := scanner.Text()
		if strings.TrimRight(line, " ") == "---" {
			flush()
			continue
		}
		current.WriteString(line)
		current.WriteByte('\n')
	}
	flush()
	return docs
}

func stripComments(doc string) string {
	var kept []string
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			kept = append(kept, line)
		}
	}
	return strings.Join(kept, "\n")
}

func (c *checker) decode(doc []byte) {
	var head struct {
		APIVersion string            `json:"apiVersion"`
		Kind       string            `json:"kind"`
		Metadata   metav1.ObjectMeta `json:"metadata"`
	}
	if err := yaml.Unmarshal(doc, &head); err != nil {
		c.fail("not YAML: %v", err)
		return
	}
	where := fmt.Sprintf("%s %q", head.Kind, head.Metadata.Name)
	object, known := newObject(head.APIVersion, head.Kind)
	if !known {
		c.fail("%s: apiVersion %q kind %q is not one the chart is checked for", where, head.APIVersion, head.Kind)
		return
	}
	if err := yaml.UnmarshalStrict(doc, object); err != nil {
		c.fail("%s: %v", where, err)
		return
	}
	if head.Metadata.Name == "" {
		c.fail("%s: metadata.name is empty", where)
	}
	c.counts[head.Kind]++
	switch o := object.(type) {
	case *appsv1.Deployment:
		c.deployment(o)
	case *batchv1.Job:
		c.podSpec("Job "+o.Name, &o.Spec.Template.Spec, false)
		c.podLabels = append(c.podLabels, o.Spec.Template.Labels)
	case *corev1.Service:
		c.services = append(c.services, o)
	case *policyv1.PodDisruptionBudget:
		c.pdbs = append(c.pdbs, o)
	case *autoscalingv2.HorizontalPodAutoscaler:
		c.hpas = append(c.hpas, o)
	case *networkingv1.NetworkPolicy:
		c.policies = append(c.policies, o)
	}
}

func (c *checker) deployment(d *appsv1.Deployment) {
	where := "Deployment " + d.Name
	c.deployments[d.Name] = d
	c.podLabels = append(c.podLabels, d.Spec.Template.Labels)
	selector, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil || d.Spec.Selector == nil || selector.Empty() {
		c.fail("%s: spec.selector is missing or invalid", where)
	} else if !selector.Matches(labels.Set(d.Spec.Template.Labels)) {
		c.fail("%s: spec.selector does not match the pod template's labels", where)
	}
	c.podSpec(where, &d.Spec.Template.Spec, true)
}

func (c *checker) podSpec(where string, spec *corev1.PodSpec, serves bool) {
	if len(spec.Containers) == 0 {
		c.fail("%s: no containers", where)
	}
	if spec.SecurityContext == nil || spec.SecurityContext.RunAsNonRoot == nil || !*spec.SecurityContext.RunAsNonRoot {
		c.fail("%s: the pod does not require runAsNonRoot", where)
	}
	for _, container := range spec.Containers {
		at := fmt.Sprintf("%s container %s", where, container.Name)
		if container.Image == "" || strings.HasPrefix(container.Image, "/") || strings.HasSuffix(container.Image, ":") {
			c.fail("%s: image %q is incomplete", at, container.Image)
		}
		if container.Resources.Requests.Memory().IsZero() || container.Resources.Limits.Memory().IsZero() {
			c.fail("%s: no memory request or limit", at)
		}
		for _, env := range container.Env {
			if env.ValueFrom == nil && looksSecret(env.Name) {
				c.fail("%s: %s is a plain value; secrets come from a Secret", at, env.Name)
			}
		}
		if !serves {
			continue
		}
		ports := map[string]bool{}
		for _, port := range container.Ports {
			ports[port.Name] = true
		}
		for name, probe := range map[string]*corev1.Probe{
			"livenessProbe": container.LivenessProbe, "readinessProbe": container.ReadinessProbe,
		} {
			if probe == nil || probe.HTTPGet == nil {
				c.fail("%s: no HTTP %s", at, name)
				continue
			}
			if port := probe.HTTPGet.Port.String(); !ports[port] {
				c.fail("%s: %s's port %s is not a named container port", at, name, port)
			}
		}
		if container.LivenessProbe != nil && container.LivenessProbe.HTTPGet != nil && container.LivenessProbe.HTTPGet.Path != "/health/live" {
			c.fail("%s: livenessProbe is not /health/live", at)
		}
		if container.ReadinessProbe != nil && container.ReadinessProbe.HTTPGet != nil && container.ReadinessProbe.HTTPGet.Path != "/health/ready" {
			c.fail("%s: readinessProbe is not /health/ready", at)
		}
	}
}

func looksSecret(name string) bool {
	if strings.HasSuffix(name, "_FILE") {
		return false // a path to a mounted file
	}
	for _, word := range []string{"SECRET", "PASSWORD", "TOKEN", "MONGODB_URI", "API_KEY", "READER_KEY"} {
		if strings.Contains(name, word) {
			return true
		}
	}
	return false
}

func (c *checker) selectsPods(where string, selector *metav1.LabelSelector) {
	parsed, err := metav1.LabelSelectorAsSelector(selector)
	if err != nil {
		c.fail("%s: invalid selector: %v", where, err)
		return
	}
	for _, set := range c.podLabels {
		if parsed.Matches(set) {
			return
		}
	}
	c.fail("%s: its selector matches no pod the chart runs", where)
}

func (c *checker) crossCheck() {
	for _, s := range c.services {
		c.selectsPods("Service "+s.Name, &metav1.LabelSelector{MatchLabels: s.Spec.Selector})
	}
	for _, p := range c.pdbs {
		c.selectsPods("PodDisruptionBudget "+p.Name, p.Spec.Selector)
	}
	for _, p := range c.policies {
		c.selectsPods("NetworkPolicy "+p.Name, &p.Spec.PodSelector)
	}
	for _, h := range c.hpas {
		target := h.Spec.ScaleTargetRef
		if _, ok := c.deployments[target.Name]; target.Kind != "Deployment" || !ok {
			c.fail("HorizontalPodAutoscaler %s: targets %s %q, which the chart does not render", h.Name, target.Kind, target.Name)
		}
		if h.Spec.MinReplicas != nil && *h.Spec.MinReplicas > h.Spec.MaxReplicas {
			c.fail("HorizontalPodAutoscaler %s: minReplicas above maxReplicas", h.Name)
		}
	}
}

func main() {
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "reading stdin:", err)
		os.Exit(2)
	}
	c := &checker{deployments: map[string]*appsv1.Deployment{}, counts: map[string]int{}}
	docs := splitDocuments(input)
	if len(docs) == 0 {
		c.fail("no manifests on stdin")
	}
	for _, doc := range docs {
		c.decode(doc)
	}
	c.crossCheck()
	if len(c.problems) > 0 {
		for _, problem := range c.problems {
			fmt.Println("FAIL", problem)
		}
		os.Exit(1)
	}
	kinds := make([]string, 0, len(c.counts))
	for kind, n := range c.counts {
		kinds = append(kinds, fmt.Sprintf("%d %s", n, kind))
	}
	sort.Strings(kinds)
	fmt.Printf("ok: %d manifests valid against k8s.io/api (%s)\n", len(docs), strings.Join(kinds, ", "))
}
