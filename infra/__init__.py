"""The Pulumi program for AWS: one component per concern, wired in `__main__.py` (docs/aws.md)."""
