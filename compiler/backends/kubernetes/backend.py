"""The kubernetes backend: every environment of a spec as one file per object
under ``deploy/<env>/``.

Per environment: Namespace and ServiceAccount; ResourceQuota and LimitRange in
the development tier; per served model a Triton Deployment (an Argo Rollout
with an AnalysisTemplate where a gate into the environment has canary steps),
Service and HPA, plus PodDisruptionBudget and NetworkPolicies in production;
the preprod shadow VirtualService; training Jobs / PyTorchJobs; ExternalSecrets
for every secret reference. ``kustomize.assemble`` adds the kustomization.
"""

from __future__ import annotations

import pickle
from typing import Any

from compiler import ir
from compiler.backends import memo
from compiler.backends.base import OutputFile, RenderContext
from compiler.backends.kubernetes import canary as k8s_canary
from compiler.backends.kubernetes import common as kc
from compiler.backends.kubernetes import policy as k8s_policy
from compiler.backends.kubernetes import serving as k8s_serving
from compiler.backends.kubernetes import training as k8s_training
from compiler.backends.kubernetes import validate as k8s_validate
from compiler.backends.memo import Exported, Scope, unit, unit_each
from compiler.backends.objects import Renders, fragment, object_file
from compiler.backends.render import Templates
from compiler.diagnostics import Diagnostic, Sink, Span
from compiler.parallel import fork_pool, workers_beside
from compiler.resolve import Placement, Project, Resolved, namespace
from compiler.targets.kubernetes import k8s_name, parse_secret
from compiler.targets.layout import object_path

T = "kubernetes/"
# Workloads without traffic yet still get a namespace quota in development.
DEV_QUOTA = ir.Resources(Span.point("<default>"), cpu=8, memory=32 << 30, gpu=0)


def _env_meta(project: str, env: ir.Environment, name: str, component: str, wave: str) -> dict[str, object]:
    return {
        "name": name,
        "namespace": namespace(env),
        "labels": {**kc.labels(project, component, name), "shipspec.dev/environment": env.name},
        "annotations": kc.wave(wave),
    }


def monitoring_namespace(r: Resolved) -> str:
    env = r.monitoring_env
    return namespace(env) if env else "monitoring"


def prometheus_address(r: Resolved) -> str:
    return f"http://prometheus-operated.{monitoring_namespace(r)}.svc:9090"


class _Env:
    """Renders one environment (``ctx`` a RenderContext), or one served model of it
    (``ctx`` a render unit's scope, without the resolved spec); collects its files."""

    def __init__(self, ctx: Renders, env: ir.Environment, project: Project, resolved: Resolved | None = None) -> None:
        self.ctx, self.env, self.r = ctx, env, resolved
        self.project_record = project
        self.project = project.name
        self.files: list[OutputFile] = []
        self.sa = k8s_name(self.project)

    @property
    def resolved(self) -> Resolved:
        assert self.r is not None, "a render unit reads only its own inputs"
        return self.r

    @property
    def spec(self) -> ir.Spec:
        return self.resolved.spec

    def add(self, kind: str, name: str, template: str, source: Span, **context: object) -> None:
        # Custom resources that embed pod templates get those checked as core objects.
        file_kind = k8s_validate.PODS_KIND if kind in ("Rollout", "PyTorchJob") else "yaml"
        f = object_file(self.ctx, object_path(self.env.name, kind, name), T + template, source, file_kind, **context)
        if f is not None:
            self.files.append(f)

    def base(self) -> None:
        env, project = self.env, self.project
        ns_meta = _env_meta(project, env, namespace(env), "namespace", kc.WAVE_NAMESPACE)
        del ns_meta["namespace"]
        # Pods of this namespace must meet the restricted Pod Security Standard;
        # not a shared monitoring namespace, whose exporters (node-exporter) are
        # not ours to restrict: there it is only warned about.
        level = "warn" if env.tier is ir.Tier.MONITORING else "enforce"
        labels = ns_meta["labels"]
        assert isinstance(labels, dict)
        ns_meta["labels"] = {
            **labels,
            f"pod-security.kubernetes.io/{level}": "restricted",
            f"pod-security.kubernetes.io/{level}-version": "latest",
        }
        self.add("Namespace", namespace(env), "namespace.yaml.j2", env.span, o={"meta": ns_meta})
        sa_meta = _env_meta(project, env, self.sa, "identity", kc.WAVE_SETUP)
        self.add("ServiceAccount", self.sa, "serviceaccount.yaml.j2", env.span, o={"meta": sa_meta})
        if env.tier is ir.Tier.DEVELOPMENT:
            quota = env.quota or DEV_QUOTA
            hard = {
                "limits.cpu": kc.quantity_cpu(quota.cpu or 8),
                "limits.memory": kc.quantity_bytes(quota.memory or 32 << 30),
                "requests.cpu": kc.quantity_cpu(quota.cpu or 8),
                "requests.memory": kc.quantity_bytes(quota.memory or 32 << 30),
                "requests.nvidia.com/gpu": str(quota.gpu),
            }
            span = env.spans.get("quota", env.span)
            self.add(
                "ResourceQuota",
                "quota",
                "resourcequota.yaml.j2",
                span,
                o={"meta": _env_meta(project, env, "quota", "quota", kc.WAVE_SETUP), "hard": hard},
            )
            self.add(
                "LimitRange",
                "defaults",
                "limitrange.yaml.j2",
                span,
                o={
                    "meta": _env_meta(project, env, "defaults", "quota", kc.WAVE_SETUP),
                    "default": {"cpu": "1", "memory": "2Gi"},
                    "default_request": {"cpu": "250m", "memory": "512Mi"},
                },
            )
        if env.tier is ir.Tier.PRODUCTION:
            if not env.gateway:
                self.ctx.sink.report(
                    "SS520",
                    f"production environment '{env.name}' names no gateway: its models "
                    "accept traffic only from their own namespace",
                    env.span,
                    hint='add: gateway "NAMESPACE-OF-THE-INGRESS-GATEWAY"',
                )
            meta = _env_meta(project, env, "default-deny-ingress", "network", kc.WAVE_SETUP)
            self.add(
                "NetworkPolicy",
                "default-deny-ingress",
                "networkpolicy-default-deny.yaml.j2",
                env.span,
                o={"meta": meta},
            )

    def secrets(self, prefix: str, env: tuple[ir.EnvVar, ...], source: Span) -> None:
        by_store: dict[str, list[dict[str, object]]] = {}
        for var in sorted(env, key=lambda v: v.name):
            if not isinstance(var.value, ir.SecretRef):
                continue
            key = parse_secret(var.value.ref)
            if key is None:
                continue  # the checker reported it
            remote: dict[str, object] = {"key": key.remote}
            if key.property:
                remote["property"] = key.property
            by_store.setdefault(key.store, []).append({"secretKey": var.name, "remoteRef": remote})
        for store, data in sorted(by_store.items()):
            name = f"{prefix}-{store}"
            meta = _env_meta(self.project, self.env, name, "secrets", kc.WAVE_SETUP)
            self.add(
                "ExternalSecret",
                name,
                "externalsecret.yaml.j2",
                source,
                o={"meta": meta, "store": store, "target": name, "data": data},
            )

    def serve_all(self, models: list[ir.Model]) -> None:
        """Each model's objects, in order: a render unit of the placement, the project, the
        preprod environment mirrored to and the monitoring addresses."""
        r, env = self.resolved, self.env
        prometheus, monitoring_ns = prometheus_address(r), monitoring_namespace(r)

        def make(m: ir.Model) -> tuple[Any, ...]:
            return r.place(m, env), r.project, k8s_canary.mirrored_to(r, env, m), prometheus, monitoring_ns

        owners = [m.name for m in models]
        shared = (env, r.project, prometheus, monitoring_ns)
        self.files += unit_each(self.ctx, "kubernetes.serve", _serve, models, make=make, owners=owners, shared=shared)

    def served(self, placed: Placement, preprod: ir.Environment | None, prometheus: str, monitoring_ns: str) -> None:
        s = k8s_serving.Served(self.project_record, placed)
        model = placed.model
        src = model.span
        self.add(
            "ServiceAccount",
            s.name,
            "serviceaccount.yaml.j2",
            model.spans.get("identity", src),
            o=k8s_serving.service_account(s),
        )
        pod = fragment(self.ctx, T + "triton-pod.yaml.j2", src, p=k8s_serving.pod(s, s.name, s.name))
        analysis = None
        if s.canary is not None and s.sla is not None:
            analysis = k8s_canary.analysis_template(s, prometheus, self.ctx.sink)
        template = "rollout.yaml.j2" if s.canary else "deployment.yaml.j2"
        self.add(s.kind, s.name, template, src, o=k8s_serving.workload(s, analysis is not None), pod=pod)
        self.add("Service", s.name, "service.yaml.j2", src, o=k8s_serving.service(s))
        if s.canary is not None and s.env.gateway:
            for view in k8s_serving.canary_services(s):
                self.add("Service", view["meta"]["name"], "service.yaml.j2", src, o=view)
            mirror = (lambda port: k8s_canary.mirror(preprod, model, port)) if preprod is not None else None
            self.add(
                "VirtualService",
                s.name,
                "virtualservice.yaml.j2",
                s.canary.span,
                o=k8s_serving.canary_virtual_service(s, mirror),
            )
        if s.replicas is not None:
            scaled = k8s_serving.scaled_object(s, prometheus)
            if scaled is not None:  # KEDA owns the HPA it creates: never both
                self.add("ScaledObject", s.name, "scaledobject.yaml.j2", s.replicas.span, o=scaled)
            else:
                self.add(
                    "HorizontalPodAutoscaler",
                    s.name,
                    "horizontalpodautoscaler.yaml.j2",
                    s.replicas.span,
                    o=k8s_serving.hpa(s),
                )
        if s.production:
            self.add("PodDisruptionBudget", s.name, "poddisruptionbudget.yaml.j2", src, o=k8s_serving.pdb(s))
            self.add(
                "NetworkPolicy",
                s.name,
                "networkpolicy.yaml.j2",
                src,
                o=k8s_serving.network_policy(s, monitoring_ns),
            )
        if analysis is not None and s.sla is not None:
            self.add("AnalysisTemplate", f"{s.name}-slo", "analysistemplate.yaml.j2", s.sla.span, o=analysis)
        env_vars = tuple(v for p in s.placement.pod_models for v in p.model.env)
        self.secrets(s.name, env_vars, src)

    def shadow(self) -> None:
        """Mirrors of this environment's traffic into the preprod environment
        that shadows it, rendered here (the source's Application owns its
        namespace); a model whose canary VirtualService exists carries the
        mirror there instead (one VirtualService per host)."""
        env = self.env
        if not any(k8s_canary.shadows(e, env) for e in self.resolved.spec.environments):
            return  # most environments: not a model to look at
        for model in self.resolved.served_models(env):
            preprod = k8s_canary.mirrored_to(self.resolved, env, model)
            if preprod is None or preprod.shadow is None:
                continue
            if self.resolved.place(model, env).canary is not None and env.gateway:
                continue  # mirrored by the canary's VirtualService
            view = k8s_canary.shadow(self.project, preprod, env, model)
            self.add("VirtualService", f"{model.name}-shadow", "virtualservice.yaml.j2", preprod.shadow.span, o=view)

    def train(self, t: ir.Training) -> None:
        name = k8s_training.name(t)
        multi = t.nodes > 1
        pod = fragment(
            self.ctx,
            T + "training-pod.yaml.j2",
            t.span,
            p=k8s_training.pod(self.resolved, self.env, t, self.sa, name, "pytorch" if multi else "train"),
            restart_policy="OnFailure" if multi else "Never",
        )
        view = k8s_training.job(self.resolved, self.env, t)
        if multi:
            self.add("PyTorchJob", name, "pytorchjob.yaml.j2", t.span, o=view, pod=pod)
        else:
            self.add("Job", name, "job.yaml.j2", t.span, o=view, pod=pod)
        claim = k8s_training.checkpoint_claim(self.resolved, self.env, t)
        if claim is not None:
            self.add(
                "PersistentVolumeClaim",
                f"{name}-checkpoints",
                "persistentvolumeclaim.yaml.j2",
                t.spans.get("checkpoint", t.span),
                o=claim,
            )
        self.secrets(name, t.env, t.span)


def _serve(
    templates: Templates,
    sink: Sink,
    placed: Placement,
    project: Project,
    preprod: ir.Environment | None,
    prometheus: str,
    monitoring_ns: str,
) -> list[OutputFile]:
    """The render unit of one served model in one environment (compiler.backends.memo)."""
    r = _Env(Scope(templates, sink), placed.env, project)
    r.served(placed, preprod, prometheus, monitoring_ns)
    return r.files


def _base(templates: Templates, sink: Sink, env: ir.Environment, project: Project) -> list[OutputFile]:
    """The render unit of an environment's own objects: its namespace, identity, quota and policies."""
    r = _Env(Scope(templates, sink), env, project)
    r.base()
    return r.files


def _render_env(ctx: RenderContext, env: ir.Environment, part: int = 0, parts: int = 1) -> list[OutputFile]:
    """One environment's files, or (for parallel workers) the ``part``-th of
    ``parts`` contiguous shares of them: the parts, concatenated in order, are
    the whole environment in the same order."""
    r = _Env(ctx, env, ctx.resolved.project, ctx.resolved)
    if part == 0:
        r.files += unit(ctx, "kubernetes.base", _base, env, ctx.resolved.project)
    models = ctx.resolved.served_models(env)
    r.serve_all(models[_cut(len(models), part, parts) : _cut(len(models), part + 1, parts)])
    if part == parts - 1:
        r.shadow()
        for t in ctx.spec.trainings:
            if t.environment is not None and t.environment.name == env.name:
                r.train(t)
    return r.files


def _cut(count: int, part: int, parts: int) -> int:
    """Where the ``part``-th of ``parts`` shares of ``count`` models starts: on a block of
    ``memo.BLOCK``, so that a share's loop bodies are the very blocks a build in one process
    makes of the whole environment (the bodies a cold compile's workers keep are those the
    first compile after it asks for; issue 16, target 3)."""
    if part >= parts:
        return count
    block = memo.BLOCK
    return min(count, (count * part // parts + block // 2) // block * block)


# Served (model, environment) pairs from which environments render in parallel
# processes: each object costs about a millisecond (template, then YAML parsed
# back for validation), a forked pool tens of milliseconds.
PARALLEL_FROM = 400
# Models per task: environments of very different sizes (a dev tier serving a
# quarter of the models) would otherwise leave a core idle at the end.
SHARE = 200
_FORKED: RenderContext | None = None  # what forked workers render from
# Per task, an unnamed temporary file the parent made before forking, where the worker puts
# its result (None: the result comes back through the pool's pipe).
_RESULTS: list[Any] = []

Result = tuple[list[OutputFile], list[Diagnostic], Exported | None]


def _tasks(r: Resolved, envs: list[ir.Environment]) -> list[tuple[int, int, int]]:
    """(environment index, part, parts) for every task, in output order."""
    tasks: list[tuple[int, int, int]] = []
    for i, env in enumerate(envs):
        parts = max(1, round(len(r.served_models(env)) / SHARE))
        tasks.extend((i, part, parts) for part in range(parts))
    return tasks


def _render_forked(task: tuple[int, int, int], slot: int) -> Result | None:
    """A task's result, or None when it is in the task's result file (``_RESULTS[slot]``)."""
    result = _render_task(task)
    fh = _RESULTS[slot] if slot < len(_RESULTS) else None
    if fh is None:
        return result
    try:
        fh.seek(0)
        pickle.dump(result, fh, protocol=pickle.HIGHEST_PROTOCOL)
        fh.flush()
    except OSError:  # a full temporary directory: through the pipe after all
        return result
    return None


def _render_task(task: tuple[int, int, int], parent: RenderContext | None = None) -> Result:
    """A task's result, rendered from ``parent`` (in a worker: what it was forked with)."""
    parent = parent if parent is not None else _FORKED
    assert parent is not None
    sink = Sink()
    # A worker takes units from the memo the parent loaded and sends back what it used.
    units = parent.units.forked() if parent.units is not None else None
    ctx = RenderContext(parent.resolved, parent.templates, sink, units=units)
    index, part, parts = task
    env = sorted(ctx.spec.environments, key=lambda e: e.name)[index]
    files = _render_env(ctx, env, part, parts)
    return files, sink.items, units.export(files) if units is not None else None


class Pending:
    """Environments rendering in forked workers while the caller renders other
    backends (on 2 cores the parent otherwise sat idle while its workers ran);
    ``finish`` waits for them, ``close`` stops them if the caller gave up. Each task's
    result is in a file of its own (``results``), read by ``finish`` one at a time."""

    # Not known until ``finish``: the workers render them (``_Verifying`` has them at once).
    files: list[OutputFile] | None = None

    def __init__(
        self,
        ctx: RenderContext,
        tasks: list[tuple[int, int, int]],
        pool: Any,
        futures: list[Any],
        results: list[Any],
    ) -> None:
        self.ctx, self.tasks, self.pool, self.futures, self.results = ctx, tasks, pool, futures, results

    def finish(self) -> list[OutputFile]:
        files: list[OutputFile] = []
        try:
            here = self._steal()
            # One worker's result at a time: adopted (its texts spooled) before the next is taken,
            # and let go of once adopted: a future keeps its result (the texts and the unit results
            # as they came back) for as long as it is referenced, which was until the render ended.
            while self.futures:
                future, fh = self.futures.pop(0), self.results.pop(0)
                stolen = here.pop() if future.cancelled() else None
                if stolen is not None and fh is not None:
                    fh.close()
                sent = stolen if stolen is not None else self._result(future.result(), fh)
                env_files, diags, exported = sent
                del stolen, sent
                if exported is not None and self.ctx.units is not None:
                    self.ctx.units.adopt(exported, env_files)
                del exported
                files.extend(env_files)
                self.ctx.sink.items.extend(diags)
        finally:
            self.close()
        return _verified(self.ctx, files)

    def _steal(self) -> list[Result]:
        """Render here, last first, the tasks no worker has begun (a cancelled future's), until
        a worker holds the next: the caller's other backends done, it would wait for the
        workers' last tasks with a core idle (0.6 s at 1,000 models on 2 cores). Each is
        rendered as a worker renders it (``_render_task``: units forked, exported, adopted in
        task order), so the files, diagnostics and memo are the same either way. The results,
        first task last, for ``finish`` to pop in task order."""
        here: list[Result] = []
        for i in range(len(self.futures) - 1, -1, -1):
            if not self.futures[i].cancel():
                break
            here.append(_render_task(self.tasks[i], self.ctx))
        return here

    @staticmethod
    def _result(sent: Result | None, fh: Any) -> Result:
        """What a worker sent back, or put in its result file (read only now: the pool's
        thread took every result as it came, so all of them were held while the parent
        rendered the other backends; issue 16, target 6)."""
        if sent is not None:
            if fh is not None:
                fh.close()
            return sent
        try:
            fh.seek(0)
            result: Result = pickle.load(fh)
        finally:
            fh.close()
        return result

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        for fh in self.results:
            if fh is not None:
                fh.close()
        self.results = []


def _start_parallel(ctx: RenderContext, envs: list[ir.Environment]) -> Pending | None:
    global _FORKED
    # The parent renders the other backends meanwhile: it keeps a core (workers_beside).
    pool = fork_pool(workers_beside(len(envs)), least=1)
    if pool is None:
        return None
    tasks = _tasks(ctx.resolved, envs)
    results = _result_files(len(tasks))
    _FORKED = ctx
    _RESULTS[:] = results
    try:
        # Every worker is forked by these submissions, while _FORKED and _RESULTS are set.
        futures = [pool.submit(_render_forked, task, slot) for slot, task in enumerate(tasks)]
    finally:
        _FORKED = None
        _RESULTS.clear()
    return Pending(ctx, tasks, pool, futures, results)


def _result_files(count: int) -> list[Any]:
    """An unnamed temporary file per task (a list of None where none can be made)."""
    import tempfile

    made: list[Any] = []
    try:
        for _ in range(count):
            made.append(tempfile.TemporaryFile())
    except OSError:
        for fh in made:
            fh.close()
        return [None] * count
    return made


def _verified(ctx: RenderContext, files: list[OutputFile]) -> list[OutputFile]:
    k8s_policy.verify_objects(ctx.spec, files, ctx.sink, ctx.units)
    return files


class _Verifying:
    """The rendered files, their verification under way in a forked child (``policy.Apart``)
    while the other backends render: ``finish`` reports what it found into the backend's sink
    (where verifying in-process would have) and hands the files on; ``close`` stops it."""

    def __init__(self, ctx: RenderContext, files: list[OutputFile], apart: k8s_policy.Apart) -> None:
        self.ctx, self.files, self.apart = ctx, files, apart  # files at hand before ``finish``

    def finish(self) -> list[OutputFile]:
        try:
            self.apart.report(self.ctx.sink)
        finally:
            self.apart.close()
        return self.files

    def close(self) -> None:
        self.apart.close()


class _Backend:
    """Renders ``deploy/<env>/`` for every environment (see the module docstring)."""

    name = "kubernetes"
    validators = {k8s_validate.PODS_KIND: k8s_validate.validate_pods}

    def start(self, ctx: RenderContext) -> Pending | _Verifying | list[OutputFile]:
        """The files, or for a large spec the ``Pending`` render in forked workers."""
        spec = ctx.spec
        envs = sorted(spec.environments, key=lambda e: e.name)
        served = sum(len(m.serve_in) for m in spec.models)
        # With units an earlier build left, most are taken from the memo: in this process,
        # which costs less than forking and sending every file back.
        warm = ctx.units is not None and bool(ctx.units.known)
        pending = _start_parallel(ctx, envs) if served >= PARALLEL_FROM and len(envs) > 1 and not warm else None
        if pending is not None:
            return pending
        files = [f for env in envs for f in _render_env(ctx, env)]
        apart = k8s_policy.verify_apart(ctx.spec, files, ctx.units)
        return _verified(ctx, files) if apart is None else _Verifying(ctx, files, apart)

    def render(self, ctx: RenderContext) -> list[OutputFile]:
        started = self.start(ctx)
        return started if isinstance(started, list) else started.finish()


BACKEND = _Backend()
