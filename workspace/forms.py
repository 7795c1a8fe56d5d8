"""The forms of the township workspace's lists."""

from django import forms
from django.utils.translation import gettext_lazy

from households.choices import ActionKind


class AssignForm(forms.Form):
    """派发帮扶 from a row of a 清零清单 or of the 预警清单: ``target`` names the row's record
    (``household:<code>``, ``person:<pk>`` or ``site:<code>``)."""

    target = forms.CharField(widget=forms.HiddenInput)
    owner = forms.CharField(label=gettext_lazy("责任人"), max_length=50)
    due_on = forms.DateField(label=gettext_lazy("期限"), widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(label=gettext_lazy("帮扶类别"), choices=ActionKind.choices)

    def error_text(self) -> str:
        """The form's errors on one line, each after its field's label (the cell has no field to mark)."""
        return "；".join(f"{self.fields[name].label}：{' '.join(map(str, errs))}" for name, errs in self.errors.items())
