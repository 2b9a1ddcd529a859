"""What the sign-off forms post: a comment (return) or a reason (reopening), checked by the
services."""


def posted_text(form, name):
    return (form.get(name) or "").strip()
