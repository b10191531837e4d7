package deltaclient

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// EntitySetInfo is one entry of a service document.
type EntitySetInfo struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	URL  string `json:"url"`
}

// Company is a Business Central company.
type Company struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
}

// ServiceDocument reads the entity sets a service root lists.
func (c *Client) ServiceDocument(ctx context.Context, root string) ([]EntitySetInfo, error) {
	var doc struct {
		Value []EntitySetInfo `json:"value"`
	}
	if err := c.getJSON(ctx, under(root, "/"), &doc); err != nil {
		return nil, fmt.Errorf("service document: %w", err)
	}
	for i := range doc.Value {
		if doc.Value[i].Kind == "" {
			doc.Value[i].Kind = "EntitySet"
		}
		if doc.Value[i].URL == "" {
			doc.Value[i].URL = doc.Value[i].Name
		}
	}
	return doc.Value, nil
}

// Companies lists the companies of a Business Central API root.
func (c *Client) Companies(ctx context.Context, root string) ([]Company, error) {
	var doc struct {
		Value []Company `json:"value"`
	}
	if err := c.getJSON(ctx, under(root, "/companies"), &doc); err != nil {
		return nil, fmt.Errorf("companies: %w", err)
	}
	return doc.Value, nil
}

// getJSON fetches a small JSON document (service document, companies) with
// the client's headers and credentials.
func (c *Client) getJSON(ctx context.Context, u string, into any) error {
	origin, err := c.home(u)
	if err != nil {
		return err
	}
	var body []byte
	_, err = c.do(ctx, get{url: u, origin: origin}, func(_ *http.Response, r io.Reader) error {
		body, err = io.ReadAll(io.LimitReader(r, 16<<20))
		return err
	})
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, into); err != nil {
		if len(body) > 0 && body[0] != '{' {
			return fmt.Errorf("%w (it starts %q)", ErrNotJSON, excerpt(body, 40))
		}
		return fmt.Errorf("malformed JSON: %v", err)
	}
	return nil
}
