// Time zones as people say them: "Berlin time" / "柏林时间", never the raw IANA id. The city is
// the id's last part (Europe/Berlin → Berlin, America/New_York → New York); Chinese readers get
// its Chinese name for the common zones below, else the zone's own Chinese name from Intl
// (timeZoneName "longGeneric": 北美东部时间), else the city as written.
const ZH_CITIES = {
  "Asia/Shanghai": "北京", "Asia/Chongqing": "重庆", "Asia/Harbin": "哈尔滨", "Asia/Urumqi": "乌鲁木齐",
  "Asia/Hong_Kong": "香港", "Asia/Macau": "澳门", "Asia/Taipei": "台北", "Asia/Tokyo": "东京",
  "Asia/Seoul": "首尔", "Asia/Singapore": "新加坡", "Asia/Kuala_Lumpur": "吉隆坡", "Asia/Bangkok": "曼谷",
  "Asia/Jakarta": "雅加达", "Asia/Ho_Chi_Minh": "胡志明市", "Asia/Manila": "马尼拉", "Asia/Kolkata": "加尔各答",
  "Asia/Dubai": "迪拜", "Asia/Almaty": "阿拉木图", "Asia/Tashkent": "塔什干",
  "Europe/Berlin": "柏林", "Europe/Paris": "巴黎", "Europe/London": "伦敦", "Europe/Madrid": "马德里",
  "Europe/Rome": "罗马", "Europe/Amsterdam": "阿姆斯特丹", "Europe/Brussels": "布鲁塞尔",
  "Europe/Luxembourg": "卢森堡", "Europe/Vienna": "维也纳", "Europe/Zurich": "苏黎世",
  "Europe/Stockholm": "斯德哥尔摩", "Europe/Copenhagen": "哥本哈根", "Europe/Oslo": "奥斯陆",
  "Europe/Helsinki": "赫尔辛基", "Europe/Warsaw": "华沙", "Europe/Prague": "布拉格",
  "Europe/Budapest": "布达佩斯", "Europe/Bratislava": "布拉迪斯拉发", "Europe/Ljubljana": "卢布尔雅那",
  "Europe/Zagreb": "萨格勒布", "Europe/Belgrade": "贝尔格莱德", "Europe/Bucharest": "布加勒斯特",
  "Europe/Sofia": "索非亚", "Europe/Athens": "雅典", "Europe/Lisbon": "里斯本", "Europe/Dublin": "都柏林",
  "Europe/Tallinn": "塔林", "Europe/Riga": "里加", "Europe/Vilnius": "维尔纽斯", "Europe/Kyiv": "基辅",
  "Europe/Kiev": "基辅", "Europe/Istanbul": "伊斯坦布尔", "Europe/Moscow": "莫斯科", "Europe/Malta": "瓦莱塔",
  "Asia/Nicosia": "尼科西亚", "Atlantic/Reykjavik": "雷克雅未克",
  "America/New_York": "纽约", "America/Chicago": "芝加哥", "America/Denver": "丹佛",
  "America/Los_Angeles": "洛杉矶", "America/Toronto": "多伦多", "America/Vancouver": "温哥华",
  "America/Mexico_City": "墨西哥城", "America/Sao_Paulo": "圣保罗", "America/Argentina/Buenos_Aires": "布宜诺斯艾利斯",
  "Africa/Cairo": "开罗", "Africa/Johannesburg": "约翰内斯堡", "Africa/Nairobi": "内罗毕", "Africa/Lagos": "拉各斯",
  "Australia/Sydney": "悉尼", "Australia/Melbourne": "墨尔本", "Australia/Perth": "珀斯", "Pacific/Auckland": "奥克兰",
};
const UTC_IDS = new Set(["UTC", "Etc/UTC", "Etc/GMT", "GMT", "Etc/Universal", "Etc/Zulu"]);

// What English speakers call a zone when its id's city is not the name they use.
const EN_CITIES = { "Asia/Shanghai": "Beijing", "Asia/Kolkata": "India", "Europe/Kiev": "Kyiv" };

function city(zone) {
  return EN_CITIES[zone] || zone.split("/").pop().replaceAll("_", " ");
}

function zhGenericName(zone) {
  try {
    const part = new Intl.DateTimeFormat("zh-CN", { timeZone: zone, timeZoneName: "longGeneric" })
      .formatToParts(new Date()).find((p) => p.type === "timeZoneName");
    // An offset ("GMT+08:00") is no name: the city says more.
    return part && !/^GMT|^UTC/.test(part.value) ? part.value : null;
  } catch {
    return null;
  }
}

// "Berlin time" / "柏林时间" for an IANA zone id, in the reader's language ("en" or "zh").
export function zoneName(zone, lang) {
  if (UTC_IDS.has(zone)) return lang === "zh" ? "协调世界时" : "UTC";
  if (lang === "zh") {
    if (ZH_CITIES[zone]) return `${ZH_CITIES[zone]}时间`;
    return zhGenericName(zone) || `${city(zone)}时间`;
  }
  return `${city(zone)} time`;
}
