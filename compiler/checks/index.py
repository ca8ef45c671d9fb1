"""Name lookups shared by the checks (first definition wins; duplicates are reported)."""

from __future__ import annotations

from dataclasses import dataclass

from compiler import ir


@dataclass(frozen=True, slots=True)
class Index:
    environments: dict[str, ir.Environment]
    models: dict[str, ir.Model]
    datasets: dict[str, ir.Dataset]

    @classmethod
    def of(cls, spec: ir.Spec) -> Index:
        def first(items: tuple) -> dict:  # type: ignore[type-arg]
            out: dict = {}  # type: ignore[type-arg]
            for item in items:
                out.setdefault(item.name, item)
            return out

        return cls(first(spec.environments), first(spec.models), first(spec.datasets))

    def served(self, model: ir.Model) -> list[ir.Environment]:
        return [self.environments[r.name] for r in model.serve_in if r.name in self.environments]

    def tier(self, name: str) -> ir.Tier | None:
        env = self.environments.get(name)
        return env.tier if env else None
