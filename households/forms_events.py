"""Forms of the household event pages (issue 20): transfer, transfer request and its decision,
cancelling a household or a person, correcting an ID number, changing the 户主. They parse what was
typed; the services in ``households.services`` check the records and write them."""

from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from households.choices import HouseholdCancelReason, PersonCancelReason, Relation
from households.forms import BLANK, DateInput, attach_id_check, choice
from households.validators import validate_past_date

REASON_WIDGET = forms.Textarea(attrs={"rows": 3})


def _choices(form: forms.Form, name: str) -> forms.ChoiceField:
    return cast(forms.ChoiceField, form.fields[name])


class TransferForm(forms.Form):
    village = forms.ChoiceField(label=_("迁入村（社区）"))
    site = forms.ChoiceField(
        label=_("安置点"), required=False, help_text=_("留空表示分散安置；安置点须属于迁入村（社区）。")
    )

    def __init__(self, *args: Any, villages: list[tuple[str, str]], sites: list[tuple[str, str]], **kw: Any) -> None:
        super().__init__(*args, **kw)
        _choices(self, "village").choices = [*BLANK, *villages]
        _choices(self, "site").choices = [("", _("分散安置（无安置点）")), *sites]


class TransferRequestForm(forms.Form):
    village = forms.ChoiceField(label=_("迁入村（社区）"), help_text=_("本县（市、区）其他乡镇（街道）的村（社区）。"))
    reason = forms.CharField(label=_("申请理由"), widget=REASON_WIDGET, max_length=1000)

    def __init__(self, *args: Any, villages: list[tuple[str, str]], **kw: Any) -> None:
        super().__init__(*args, **kw)
        _choices(self, "village").choices = [*BLANK, *villages]


class TransferDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("批准")), ("reject", _("驳回"))], widget=forms.HiddenInput)
    note = forms.CharField(
        label=_("审批意见"), required=False, widget=REASON_WIDGET, max_length=1000, help_text=_("驳回时必填。")
    )


class CancelForm(forms.Form):
    cancelled_on = forms.DateField(label=_("注销日期"), widget=DateInput(), validators=[validate_past_date])
    cancel_reason = forms.ChoiceField(label=_("注销原因"))

    def __init__(self, *args: Any, household: bool, **kw: Any) -> None:
        kw.setdefault("initial", {"cancelled_on": timezone.localdate()})
        super().__init__(*args, **kw)
        reasons = HouseholdCancelReason.choices if household else PersonCancelReason.choices
        _choices(self, "cancel_reason").choices = BLANK + list(reasons)


class CorrectIdForm(forms.Form):
    id_number = forms.CharField(
        label=_("正确的身份证号"), max_length=40, help_text=_("18 位，末位可为 X；请按证件逐位核对。")
    )

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        attach_id_check(self)


class ChangeHeadForm(forms.Form):
    new_head = forms.TypedChoiceField(label=_("新户主"), coerce=int)
    old_head_relation = choice(
        _("原户主与新户主的关系"), [(value, label) for value, label in Relation.choices if value != Relation.HEAD]
    )

    def __init__(self, *args: Any, members: list[tuple[int, str]], has_head: bool, **kw: Any) -> None:
        super().__init__(*args, **kw)
        _choices(self, "new_head").choices = [*BLANK, *members]
        if not has_head:
            del self.fields["old_head_relation"]
