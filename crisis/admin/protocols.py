"""The protocol authoring tool: protocols, versions, ladders and checklists.

Only protocol authors (``crisis.author_protocol``, or superusers) add or change; other
staff read. A published or retired version is shown read-only. Publishing, new drafts,
import and export are services (``crisis.services.protocols``, ``crisis.protocol_io``);
the pages here only collect input and show results.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Count, F
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import DomainError
from crisis import protocol_io
from crisis.admin import protocol_diff
from crisis.admin.protocol_forms import (
    ChecklistFormSet,
    ChecklistItemForm,
    ImportForm,
    LevelForm,
    LevelFormSet,
    VersionForm,
    format_timeout,
)
from crisis.models import (
    ChecklistItem,
    EscalationLevel,
    LevelAction,
    Protocol,
    ProtocolVersion,
    VersionStatus,
)
from crisis.services import protocol_rules as rules
from crisis.services import protocols as services
from crisis.snapshot import LevelSnapshot, ProtocolSnapshot


def _is_staff(request) -> bool:
    return bool(request.user.is_active and request.user.is_staff)


class AuthorPermissions:
    """Authors write, other staff read (instead of Django's per-model add/change perms)."""

    def has_module_permission(self, request):
        return _is_staff(request)

    def has_view_permission(self, request, obj=None):
        return _is_staff(request)

    def has_author_permission(self, request) -> bool:
        return _is_staff(request) and services.is_author(request.user)


class DraftOnlyInline(admin.TabularInline):
    extra = 0
    ordering = ["order"]

    def _editable(self, request, obj) -> bool:
        return (
            obj is not None
            and obj.is_editable
            and _is_staff(request)
            and services.is_author(request.user)
        )

    def has_view_permission(self, request, obj=None):
        return _is_staff(request)

    def has_add_permission(self, request, obj=None):
        return self._editable(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(request, obj)


class LevelInline(DraftOnlyInline):
    model = EscalationLevel
    form = LevelForm
    formset = LevelFormSet
    verbose_name = "escalation level"
    verbose_name_plural = "escalation ladder (level 1 is told first)"

    def get_fields(self, request, obj=None):
        if self._editable(request, obj):
            return list(LevelForm.Meta.fields)
        return ["order", "name", "timeout_display", "who", "actions_display"]

    def get_readonly_fields(self, request, obj=None):
        if self._editable(request, obj):
            return []
        return ["order", "name", "timeout_display", "who", "actions_display"]

    @admin.display(description="timeout")
    def timeout_display(self, level):
        return format_timeout(level.timeout_seconds)

    @admin.display(description="who is told")
    def who(self, level):
        return rules.describe_audience(LevelSnapshot.of(level))

    @admin.display(description="actions on entering")
    def actions_display(self, level):
        return ", ".join(str(LevelAction(a).label) for a in level.actions) or "—"


class ChecklistInline(DraftOnlyInline):
    model = ChecklistItem
    form = ChecklistItemForm
    formset = ChecklistFormSet
    fields = ["order", "party_role", "title", "description", "due_after_minutes"]
    verbose_name_plural = "checklist (by party)"


class VersionInline(admin.TabularInline):
    """A protocol's versions, read-only: open one to edit (drafts) or read (published)."""

    model = ProtocolVersion
    extra = 0
    fields = ["number", "status", "published_at", "retired_at", "notes", "compare"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False
    ordering = ["-number"]

    def has_view_permission(self, request, obj=None):
        return _is_staff(request)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("compare"))
    def compare(self, version):
        if not version.pk or version.number <= 1:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:crisis_protocolversion_diff", args=[version.pk]),
            _("changes from the version before"),
        )


@admin.register(Protocol)
class ProtocolAdmin(AuthorPermissions, admin.ModelAdmin):
    list_display = ["name", "category", "published", "version_count"]
    list_filter = ["category"]
    search_fields = ["name", "description"]
    fields = ["name", "category", "description"]
    inlines = [VersionInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(n_versions=Count("versions"))
            .prefetch_related("versions")
        )

    @admin.display(description="published version")
    def published(self, protocol):
        version = next((v for v in protocol.versions.all() if v.is_published), None)
        return f"v{version.number}" if version else "—"

    @admin.display(description="versions", ordering="n_versions")
    def version_count(self, protocol):
        return protocol.n_versions

    def get_readonly_fields(self, request, obj=None):
        # Which protocol a new crisis follows is decided by category: once published, it
        # stays (publishing keeps one published protocol per category).
        if obj is not None and obj.versions.exclude(status=VersionStatus.DRAFT).exists():
            return ["category"]
        return []

    def has_add_permission(self, request):
        return self.has_author_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_author_permission(request)

    def has_delete_permission(self, request, obj=None):
        # Only a protocol that never left draft: published rules stay on the record.
        if obj is not None and obj.versions.exclude(status=VersionStatus.DRAFT).exists():
            return False
        return self.has_author_permission(request)

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        protocol, _ = services.create_protocol(
            by=request.user, name=obj.name, category=obj.category, description=obj.description
        )
        obj.pk, obj.created_at = protocol.pk, protocol.created_at
        obj._state.adding = False

    def response_add(self, request, obj, post_url_continue=None):
        draft = obj.versions.get(number=1)
        messages.success(
            request, _("Created %(name)s. Draft v1 is ready: add its levels.") % {"name": obj.name}
        )
        return HttpResponseRedirect(reverse("admin:crisis_protocolversion_change", args=[draft.pk]))

    def get_urls(self):
        urls = [
            path(
                "import/",
                self.admin_site.admin_view(self._import_redirect),
                name="crisis_protocol_import",
            )
        ]
        return urls + super().get_urls()

    def _import_redirect(self, request):
        return HttpResponseRedirect(reverse("admin:crisis_protocolversion_import"))

    def changelist_view(self, request, extra_context=None):
        extra = {"can_author": self.has_author_permission(request), **(extra_context or {})}
        return super().changelist_view(request, extra)


@admin.register(ProtocolVersion)
class ProtocolVersionAdmin(AuthorPermissions, admin.ModelAdmin):
    list_display = ["protocol", "version", "status", "levels_count", "published_at", "retired_at"]
    list_display_links = ["protocol", "version"]
    list_filter = ["status", "protocol__category", "protocol"]
    search_fields = ["protocol__name", "notes"]
    list_select_related = ["protocol"]
    inlines = [LevelInline, ChecklistInline]
    form = VersionForm
    actions = ["publish_selected", "new_draft_from_selected", "export_yaml", "export_json"]
    fieldsets = [
        (None, {"fields": ["protocol", "number", "status", "notes"]}),
        (
            "Escalation",
            {"fields": ["repeat_last_level", "max_repeats", "ack_timeout"]},
        ),
        (
            "Record",
            {
                "fields": [
                    "created_from",
                    "created_at",
                    "published_at",
                    "published_by",
                    "retired_at",
                ]
            },
        ),
    ]
    readonly_fields = [
        "protocol",
        "number",
        "status",
        "created_from",
        "created_at",
        "published_at",
        "published_by",
        "retired_at",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_levels=Count("levels"))

    @admin.display(description="version", ordering="number")
    def version(self, version):
        return f"v{version.number}"

    @admin.display(description=gettext_lazy("acknowledgement times out after"))
    def ack_timeout(self, version):
        """Shown on a version that cannot be changed (the form's field otherwise)."""
        return format_timeout(version.ack_timeout_seconds) or _("never")

    @admin.display(description="levels", ordering="n_levels")
    def levels_count(self, version):
        return version.n_levels

    # --- permissions: drafts are edited by authors; nothing is added by hand -------------
    def has_add_permission(self, request):
        return False  # versions come from a new protocol, "new draft" or an import

    def has_change_permission(self, request, obj=None):
        if obj is not None and not obj.is_editable:
            return False
        return self.has_author_permission(request)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and not obj.is_editable:
            return False
        return self.has_author_permission(request)

    def save_formset(self, request, form, formset, change):
        # Orders are unique per version: park re-ordered rows first so a swap (1 <-> 2)
        # never collides with a row not yet saved.
        moved = [
            f.instance.pk
            for f in formset.initial_forms
            if f.instance.pk and ("order" in f.changed_data or formset._should_delete_form(f))
        ]
        if moved:
            formset.model.objects.filter(pk__in=moved).update(order=F("order") + 10000)
        super().save_formset(request, form, formset, change)

    # --- pages -------------------------------------------------------------------------------
    def get_urls(self):
        def view(fn):
            return self.admin_site.admin_view(fn)

        return [
            path("import/", view(self.import_view), name="crisis_protocolversion_import"),
            path(
                "<int:pk>/preview/", view(self.preview_view), name="crisis_protocolversion_preview"
            ),
            path(
                "<int:pk>/publish/", view(self.publish_view), name="crisis_protocolversion_publish"
            ),
            path(
                "<int:pk>/new-draft/",
                view(self.new_draft_view),
                name="crisis_protocolversion_new_draft",
            ),
            path("<int:pk>/export/", view(self.export_view), name="crisis_protocolversion_export"),
            path("<int:pk>/diff/", view(self.diff_view), name="crisis_protocolversion_diff"),
            *super().get_urls(),
        ]

    def _context(self, request, version, **extra):
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": version,
            "version": version,
            "can_author": self.has_author_permission(request),
            **extra,
        }

    def _version(self, request, pk) -> ProtocolVersion:
        if not self.has_view_permission(request):
            raise DjangoPermissionDenied
        return get_object_or_404(ProtocolVersion.objects.select_related("protocol"), pk=pk)

    def _require_author(self, request):
        if not self.has_author_permission(request):
            raise DjangoPermissionDenied

    def _readiness(self, version):
        snapshot = services.snapshot_of(version)
        return {
            "problems": rules.content_problems(snapshot) if version.is_editable else [],
            "preview": rules.ladder_preview(ProtocolSnapshot.from_dict(snapshot)),
            "ack_timeout_words": format_timeout(version.ack_timeout_seconds),
        }

    def change_view(self, request, object_id, form_url="", extra_context=None):
        version = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if version is not None:
            extra.update(self._readiness(version))
            extra["can_author"] = self.has_author_permission(request)
        return super().change_view(request, object_id, form_url, extra)

    def changelist_view(self, request, extra_context=None):
        extra = {"can_author": self.has_author_permission(request), **(extra_context or {})}
        return super().changelist_view(request, extra)

    def preview_view(self, request, pk):
        version = self._version(request, pk)
        context = self._context(
            request, version, title=_("Ladder preview: %(version)s") % {"version": version}
        )
        context.update(self._readiness(version))
        return TemplateResponse(request, "admin/crisis/protocolversion/preview.html", context)

    def publish_view(self, request, pk):
        self._require_author(request)
        version = self._version(request, pk)
        change_url = reverse("admin:crisis_protocolversion_change", args=[version.pk])
        if request.method == "POST":
            try:
                published = services.publish_version(by=request.user, version=version)
            except DomainError as exc:
                self._report(request, exc)
                return HttpResponseRedirect(request.path)
            messages.success(
                request,
                _("Published %(version)s. It can no longer be changed.") % {"version": published},
            )
            return HttpResponseRedirect(change_url)
        current = version.protocol.versions.filter(status=VersionStatus.PUBLISHED).first()
        context = self._context(
            request,
            version,
            title=_("Publish %(version)s?") % {"version": version},
            current=current,
            change_url=change_url,
            **self._readiness(version),
        )
        return TemplateResponse(request, "admin/crisis/protocolversion/publish.html", context)

    def new_draft_view(self, request, pk):
        self._require_author(request)
        version = self._version(request, pk)
        if request.method == "POST":
            try:
                draft = services.new_draft_from(by=request.user, version=version)
            except DomainError as exc:
                self._report(request, exc)
                return HttpResponseRedirect(request.path)
            messages.success(
                request,
                _("Created draft v%(new)s from v%(old)s.")
                % {"new": draft.number, "old": version.number},
            )
            return HttpResponseRedirect(
                reverse("admin:crisis_protocolversion_change", args=[draft.pk])
            )
        context = self._context(
            request, version, title=_("New draft from %(version)s?") % {"version": version}
        )
        return TemplateResponse(request, "admin/crisis/protocolversion/new_draft.html", context)

    def diff_view(self, request, pk):
        """This version beside another of the same protocol (``?against=<id>``; by default
        the version it was made from, else the one numbered just before it)."""
        version = self._version(request, pk)
        others = list(version.protocol.versions.exclude(pk=version.pk).order_by("-number"))
        chosen = request.GET.get("against", "")
        other = next((v for v in others if str(v.pk) == chosen), None)
        if other is None:
            other = next((v for v in others if v.pk == version.created_from_id), None)
        if other is None:
            other = next((v for v in others if v.number < version.number), None)
        if other is None and others:
            other = others[0]
        rows = protocol_diff.side_by_side(
            protocol_diff.version_lines(other) if other else [],
            protocol_diff.version_lines(version),
        )
        context = self._context(
            request,
            version,
            title=_("Compare %(other)s with %(version)s")
            % {"other": other or _("nothing"), "version": version},
            other=other,
            others=others,
            rows=rows,
            changes=sum(1 for r in rows if r.change != "same"),
        )
        return TemplateResponse(request, "admin/crisis/protocolversion/diff.html", context)

    def export_view(self, request, pk):
        version = self._version(request, pk)
        fmt = request.GET.get("as", "yaml")
        if fmt not in protocol_io.FORMATS:
            fmt = "yaml"
        return protocol_io.export_response(version, fmt)

    def import_view(self, request):
        self._require_author(request)
        form = ImportForm(request.POST or None, request.FILES or None)
        errors = []
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                draft = protocol_io.import_version(
                    by=request.user,
                    data=upload.read(),
                    fmt=form.cleaned_data["format"] or None,
                    filename=upload.name,
                )
            except DomainError as exc:
                errors = [
                    _("%(field)s: %(problem)s") % e for e in exc.details.get("errors", [])
                ] or [exc.message]
            else:
                messages.success(
                    request,
                    _("Imported %(file)s as %(version)s.")
                    % {"file": upload.name, "version": draft},
                )
                return HttpResponseRedirect(
                    reverse("admin:crisis_protocolversion_change", args=[draft.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import a protocol version"),
            "form": form,
            "errors": errors,
        }
        return TemplateResponse(
            request,
            "admin/crisis/protocolversion/import.html",
            context,
            status=400 if errors else 200,
        )

    def _report(self, request, exc: DomainError):
        messages.error(request, exc.message)
        for problem in exc.details.get("problems", [])[1:]:
            messages.error(request, problem)

    # --- changelist actions ----------------------------------------------------------------
    @admin.action(description=gettext_lazy("Publish the selected draft"), permissions=["author"])
    def publish_selected(self, request, queryset):
        for version in queryset.select_related("protocol"):
            try:
                services.publish_version(by=request.user, version=version)
            except DomainError as exc:
                self._report(request, exc)
            else:
                messages.success(
                    request,
                    _("Published %(protocol)s v%(number)s.")
                    % {"protocol": version.protocol.name, "number": version.number},
                )

    @admin.action(
        description=gettext_lazy("New draft from the selected version"), permissions=["author"]
    )
    def new_draft_from_selected(self, request, queryset):
        for version in queryset.select_related("protocol"):
            try:
                draft = services.new_draft_from(by=request.user, version=version)
            except DomainError as exc:
                self._report(request, exc)
            else:
                url = reverse("admin:crisis_protocolversion_change", args=[draft.pk])
                messages.success(
                    request,
                    format_html(
                        _('Created <a href="{url}">{version}</a>.'), url=url, version=str(draft)
                    ),
                )

    def _export_one(self, request, queryset, fmt):
        if queryset.count() != 1:
            messages.error(request, _("Select exactly one version to export."))
            return None
        return protocol_io.export_response(queryset.select_related("protocol").get(), fmt)

    @admin.action(description=gettext_lazy("Export the selected version as YAML"))
    def export_yaml(self, request, queryset):
        return self._export_one(request, queryset, "yaml")

    @admin.action(description=gettext_lazy("Export the selected version as JSON"))
    def export_json(self, request, queryset):
        return self._export_one(request, queryset, "json")
