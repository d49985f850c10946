from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "project.sandbox"
    label = "sandbox"
    verbose_name = "Sandbox identity provider"
