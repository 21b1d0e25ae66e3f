// Submits the form that hands the saved integration back to Zendesk.
document.querySelectorAll('form[data-autosubmit="true"]').forEach(function (form) { form.submit(); });
