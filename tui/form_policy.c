/* form_policy.c: the launch form's policy verdict (issue 12): before [Launch] is pressed the
 * form shows why the policy refuses the plan ("cannot launch: refused by policy: FILE:L:C
 * roles.ml.regions: ...") or that it will wait for an approval ("needs approval: ..."). The
 * verdict is engine_admit's, so the form answers what a launch would; it is recomputed with
 * the budget check (tui/form.c form_budget). */
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "tui/app.h"
#include "tui/view.h"

void form_policy_update(struct app *a)
{
	struct app_form *F = &a->form;
	struct engine_admission adm;
	char *s;

	free(F->policy_block);
	free(F->policy_note);
	F->policy_block = NULL;
	F->policy_note = NULL;
	if (!F->have_plan)
		return;
	engine_admit(a->e, &F->plan, &adm);
	if (adm.refusal == ENGINE_REFUSE_POLICY && adm.reason != NULL) {
		F->policy_block = app_clean(a, adm.reason);
	} else if (adm.refusal == ENGINE_ADMIT_OK && adm.needs_approval) {
		s = xprintf("needs approval: %s",
		            adm.approval_reason != NULL ? adm.approval_reason : "policy");
		F->policy_note = app_clean(a, s);
		free(s);
	}
	engine_admission_clear(&adm);
}
