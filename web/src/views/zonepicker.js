// The time zone picker: IANA zones grouped by region, each named by its city in the reader's
// language ("Berlin time" / "柏林时间", web/src/zones.js). A zone this browser does not list
// stays offered as it is. The profile and the webinar form use it.
import { html } from "../html.js";
import { state } from "../state.js";
import { t } from "../subjects/language.js";
import { zoneGroups } from "../pickers.js";

// `none`: the label of an empty choice (none: a zone must be picked). Other props go to the <select>.
export function ZoneSelect({ value, none = null, ...props }) {
  const groups = zoneGroups(state.lang);
  return html`<select value=${value || ""} ...${props}>
    ${none && html`<option value="">${none}</option>`}
    ${value && !groups.some(([, zones]) => zones.some(([z]) => z === value)) && html`<option value=${value}>${value}</option>`}
    ${groups.map(([region, zones]) => html`<optgroup label=${t(`zone.region.${region}`)}>
      ${zones.map(([zone, name]) => html`<option value=${zone}>${name}</option>`)}</optgroup>`)}
  </select>`;
}
