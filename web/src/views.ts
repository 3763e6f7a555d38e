/**
 * The page's views (sign-in, sign-up, notes, account …): one is shown, the others wait outside the
 * document, each leaving a placeholder where it goes back. What a person's assistive tools, the
 * browser's autofill and a page test find on the page are the current view's fields only.
 */
const parked = new Map<HTMLElement, Comment>();

/** The element `selector` names, in the document or in a view that is not shown. */
export function $<T extends HTMLElement>(selector: string): T {
    const found = document.querySelector<T>(selector);
    if (found) return found;
    for (const view of parked.keys()) {
        if (view.matches(selector)) return view as T;
        const inside = view.querySelector<T>(selector);
        if (inside) return inside;
    }
    throw new Error(`The page has no ${selector}`);
}

/** Shows the view `current` (a selector of `views`) and parks the others. */
export function showView(views: readonly string[], current: string): void {
    for (const selector of views) {
        const view = $(selector);
        const placeholder = parked.get(view);
        if (selector === current) {
            if (placeholder) {
                placeholder.replaceWith(view);
                parked.delete(view);
            }
            view.hidden = false;
        } else if (!placeholder) {
            const mark = document.createComment(selector);
            view.replaceWith(mark);
            parked.set(view, mark);
            view.hidden = true;
        }
    }
}
