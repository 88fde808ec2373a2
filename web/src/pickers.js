// The choices the profile's pickers offer, named in the reader's language: countries (ISO 3166-1
// alpha-2, the list the server accepts, chat/accounts/profiles.py), time zones grouped by region
// (named by city, web/src/zones.js) and common languages (BCP 47 tags). Names come from
// Intl.DisplayNames, so no list of names is shipped.
import { zoneName } from "./zones.js";

const COUNTRY_CODES = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW XK".split(" ");
// The languages offered as checkboxes; a profile's other languages stay listed as they are.
export const COMMON_LANGUAGES = ["zh", "en", "de", "fr", "es", "it", "pt", "nl", "pl", "sv", "ru", "uk", "ar", "ja", "ko", "hi"];
const LOCALES = { en: "en", zh: "zh-CN" };

function displayName(lang, type, code) {
  try {
    return new Intl.DisplayNames([LOCALES[lang] || lang], { type }).of(code) || code;
  } catch {
    return code;
  }
}

// [[code, name]] sorted by name in the reader's language.
export function countryChoices(lang) {
  const collator = new Intl.Collator(LOCALES[lang] || lang);
  return COUNTRY_CODES.map((code) => [code, displayName(lang, "region", code)])
    .sort((a, b) => collator.compare(a[1], b[1]));
}

export const languageName = (lang, tag) => displayName(lang, "language", tag);

// [[region, [[zone, name]]]]: the IANA zones this browser knows, grouped by their first part.
export function zoneGroups(lang) {
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : ["UTC"];
  const collator = new Intl.Collator(LOCALES[lang] || lang);
  const groups = new Map();
  for (const zone of zones) {
    const region = zone.includes("/") ? zone.split("/")[0] : "Other";
    if (!groups.has(region)) groups.set(region, []);
    groups.get(region).push([zone, zoneName(zone, lang)]);
  }
  for (const list of groups.values()) list.sort((a, b) => collator.compare(a[1], b[1]));
  return [...groups.entries()].sort((a, b) => a[0].localeCompare(b[0]));
}
