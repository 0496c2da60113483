// A small element builder: pages are plain DOM, no framework (the dashboard is a handful of forms
// and tables; a framework would add more code than it saves).

type Child = Node | string | number | null | undefined | false;
type Attributes = Record<string, string | number | boolean | EventListener | null | undefined>;

/** h("button", {type: "submit", onclick: save}, "Save"): attributes, `on…` listeners, children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K, attributes: Attributes = {}, ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "value" && "value" in element) {
      (element as HTMLInputElement).value = String(value);
    } else if (name === "checked" && "checked" in element) {
      (element as HTMLInputElement).checked = Boolean(value);
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children.flat());
  return element;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's children. */
export function fill(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

let uniqueId = 0;

/** A labelled form control: the label names the control (accessible name), the hint describes it. */
export function field(label: string, control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement,
                      hint?: string): HTMLDivElement {
  control.id ||= `field-${++uniqueId}`;
  const hintElement = hint ? h("small", { id: `${control.id}-hint` }, hint) : null;
  if (hintElement) control.setAttribute("aria-describedby", hintElement.id);
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control, hintElement);
}

/** A message region: errors are announced at once (role=alert), other news politely. */
export function message(text: string, kind: "error" | "info" | "success" = "info"): HTMLParagraphElement {
  return h("p", { class: `message ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}

/** A labelled figure: every number says what it is, its unit and its window. */
export function figure(label: string, value: string, window?: string, testId?: string): HTMLDivElement {
  return h("div", { class: "figure", "data-testid": testId },
    h("dt", {}, label, window ? h("span", { class: "window" }, ` (${window})`) : null),
    h("dd", {}, value));
}

/** A table with a caption and column headers. */
export function table(caption: string, headers: string[], rows: HTMLTableRowElement[]): HTMLTableElement {
  return h("table", {},
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, headers.map((header) => h("th", { scope: "col" }, header)))),
    h("tbody", {}, rows));
}

export function cell(...children: Child[]): HTMLTableCellElement {
  return h("td", {}, ...children);
}
