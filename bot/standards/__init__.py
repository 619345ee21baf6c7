"""MSP standards: templates, policies copied from a template or a client, syncs, policy files."""
