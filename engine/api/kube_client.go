package api

import (
	"context"
	"net/http"
	"net/url"
)

// PlayKube has the daemon create and, unless req.NoStart is set, start the
// pods of a manifest. On any error the daemon removes the pods it created.
func (c *Client) PlayKube(ctx context.Context, req KubePlayRequest) (*KubePlayReport, error) {
	var out KubePlayReport
	return &out, c.do(ctx, http.MethodPost, "/kube/play", req, &out)
}

// DownKube has the daemon stop and remove the pods a manifest names, with
// their emptyDir volumes.
func (c *Client) DownKube(ctx context.Context, req KubeDownRequest) (*KubeDownReport, error) {
	var out KubeDownReport
	return &out, c.do(ctx, http.MethodPost, "/kube/down", req, &out)
}

// GenerateKube returns a manifest of the pods named by refs.
func (c *Client) GenerateKube(ctx context.Context, refs []string) (*KubeGenerateReport, error) {
	q := url.Values{}
	for _, ref := range refs {
		q.Add("pod", ref)
	}
	var out KubeGenerateReport
	return &out, c.do(ctx, http.MethodGet, "/kube/generate?"+q.Encode(), nil, &out)
}
