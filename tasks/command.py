"""What `luigi --module tasks ...` does before luigi reads its command line: .env and SECTION_KEY variables
apply, every setting is checked (a bad one refuses the command in one line), --help shows each parameter's
default, and the pipeline's own errors are logged as one line (tasks.errors)."""

import logging
from collections.abc import Iterable, Mapping

import luigi
import luigi.configuration

from tasks import config
from tasks.errors import OneLineErrors, refuse

_LONGEST_DEFAULT = 80  # characters of a default shown in --help (a cluster config can be a page of JSON)


def prepare_command(task_classes: Iterable[type[luigi.Task]]) -> None:
    """Set up the luigi command for the pipeline's tasks (see the module's docstring)."""
    from_environment = config.apply_environment()
    check_settings(from_environment)
    show_defaults([*task_classes, *config.CONFIG_CLASSES])
    interface = logging.getLogger("luigi-interface")
    if not any(isinstance(existing, OneLineErrors) for existing in interface.filters):
        interface.addFilter(OneLineErrors())


def check_settings(from_environment: Mapping[tuple[str, str], str]) -> None:
    """Parse every value luigi.cfg, .env or the environment gives a setting of the pipeline's sections, and
    refuse the command at the first one not accepted, naming it as it was given (LAKE_ROOT=... or [lake]
    root = ...) and what is accepted."""
    settings = luigi.configuration.get_config()
    for config_class in config.CONFIG_CLASSES:
        section = config_class.get_task_family()
        for name, parameter in config_class.get_params():
            if not settings.has_option(section, name):
                continue
            value = settings.get(section, name)
            try:
                parameter.parse(value)
            except ValueError as error:
                variable = from_environment.get((section, name))
                given = f"{variable}={value}" if variable else f"[{section}] {name} = {value}"
                refuse(f"{given}: {error}")


def show_defaults(classes: Iterable[type[luigi.Task]]) -> None:
    """Append to each parameter's --help text the value it takes when its flag is not given (after
    luigi.cfg, .env and the environment); a parameter shared by several classes is described once."""
    described: set[int] = set()
    for task_class in classes:
        family = task_class.get_task_family()
        for name, parameter in task_class.get_params():
            if id(parameter) in described:
                continue
            described.add(id(parameter))
            value = parameter._get_value(family, name)  # luigi's own lookup: config, then the default
            if value is luigi.parameter._no_value or value in ("", None):
                continue
            shown = parameter.serialize(value)
            if len(shown) > _LONGEST_DEFAULT:
                shown = shown[: _LONGEST_DEFAULT - 1] + "…"
            parameter.description = f"{parameter.description or ''} (default: {shown})".lstrip()
