# Placeholder: filled by the sandbox identity provider work.
