"""The words the evaluation corpus is written with: the platform's seven sectors and ten pilot
cities, the topics each sector talks about (English, simplified and traditional Chinese, and
the mixed forms people really type), the people who talk, and the sentence templates.

Everything here is plain data; tests/support/search_corpus/generate.py puts it together.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class City:
    room_id: str
    en: str
    zh: str
    trad: str = ""  # the traditional spelling when it differs (青島)


@dataclass(frozen=True)
class Concept:
    """One thing a sector talks about. `zh_parts`: two-character words inside `zh` that a
    member would search on their own (公交 inside 快速公交系统); `mixed`: how it is written
    with Latin letters inside Chinese (BRT快速公交)."""

    key: str
    en: str
    zh: str
    trad: str = ""
    zh_parts: tuple[str, ...] = ()
    mixed: str = ""


@dataclass(frozen=True)
class Sector:
    room_id: str
    en: str
    zh: str
    trad: str
    concepts: tuple[Concept, ...] = field(default_factory=tuple)


CITIES: tuple[City, ...] = (
    City("zhuhai", "Zhuhai", "珠海"),
    City("luoyang", "Luoyang", "洛阳", "洛陽"),
    City("weihai", "Weihai", "威海"),
    City("changzhou", "Changzhou", "常州"),
    City("guilin", "Guilin", "桂林"),
    City("hefei", "Hefei", "合肥"),
    City("liuzhou", "Liuzhou", "柳州"),
    City("qingdao", "Qingdao", "青岛", "青島"),
    City("zhuzhou", "Zhuzhou", "株洲"),
    City("xixian", "Xixian New Area", "西咸新区", "西咸新區"),
)

SECTORS: tuple[Sector, ...] = (
    Sector("urban-renewal", "Urban Renewal", "城市更新", "城市更新", (
        Concept("old-estates", "old residential estate renovation", "老旧小区改造", "老舊小區改造", ("小区", "改造")),
        Concept("urban-planning", "urban planning", "城市规划", "城市規劃", ("规划",)),
        Concept("historic-district", "historic district", "历史街区", "歷史街區", ("街区",)),
        Concept("public-space", "public space", "公共空间", "公共空間", ("空间",)),
        Concept("shantytown", "shantytown redevelopment", "棚户区改造", "棚戶區改造", ("棚户",)),
        Concept("mixed-use", "mixed-use development", "混合用地开发", "混合用地開發", ("用地",)),
    )),
    Sector("green-buildings", "Green Buildings", "绿色建筑", "綠色建築", (
        Concept("leed", "LEED certification", "绿色建筑认证", "綠色建築認證", ("认证",), "LEED认证"),
        Concept("energy-retrofit", "energy efficiency retrofit", "节能改造", "節能改造", ("节能",)),
        Concept("passive-house", "passive house", "被动式超低能耗建筑", "被動式超低能耗建築", ("能耗",)),
        Concept("green-roof", "green roof", "屋顶绿化", "屋頂綠化", ("屋顶", "绿化")),
        Concept("insulation", "external wall insulation", "外墙保温", "外牆保溫", ("保温",)),
        Concept("three-star", "three-star green building label", "三星级绿色建筑标识", "三星級綠色建築標識", ("星级",)),
    )),
    Sector("green-transport", "Green Transport", "绿色交通", "綠色交通", (
        Concept("brt", "BRT", "快速公交系统", "快速公交系統", ("公交", "快速"), "BRT快速公交"),
        Concept("ev-charging", "EV charging station", "电动汽车充电桩", "電動汽車充電樁", ("充电", "汽车"), "EV充电桩"),
        Concept("bike-sharing", "bike sharing", "共享单车", "共享單車", ("单车",)),
        Concept("metro", "metro line", "地铁线路", "地鐵線路", ("地铁",)),
        Concept("bus-lane", "bus lane", "公交专用道", "公交專用道", ("公交", "专用")),
        Concept("parking", "parking management", "停车管理", "停車管理", ("停车",), "智慧停车App"),
    )),
    Sector("clean-energy", "Clean Energy Utilization", "清洁能源利用", "清潔能源利用", (
        Concept("solar-pv", "rooftop solar", "屋顶光伏发电", "屋頂光伏發電", ("光伏", "发电"), "PV光伏"),
        Concept("heat-pump", "heat pump", "空气源热泵", "空氣源熱泵", ("热泵",)),
        Concept("district-heating", "district heating", "集中供热", "集中供熱", ("供热",)),
        Concept("wind", "wind power", "风力发电", "風力發電", ("风力", "发电")),
        Concept("storage", "energy storage", "储能电站", "儲能電站", ("储能",)),
        Concept("gas", "natural gas", "天然气管网", "天然氣管網", ("天然", "管网")),
    )),
    Sector("water-management", "Water Management", "水资源管理", "水資源管理", (
        Concept("sponge-city", "sponge city", "海绵城市", "海綿城市", ("海绵",)),
        Concept("wastewater", "wastewater treatment plant", "污水处理厂", "污水處理廠", ("污水", "处理")),
        Concept("rainwater", "rainwater harvesting", "雨水收集", "雨水收集", ("雨水",)),
        Concept("flood-control", "flood control", "防洪排涝", "防洪排澇", ("防洪", "排涝")),
        Concept("water-supply", "water supply network", "供水管网", "供水管網", ("供水",)),
        Concept("black-water", "black and odorous water", "黑臭水体", "黑臭水體", ("水体",)),
    )),
    Sector("solid-waste", "Solid Waste Management", "固体废物管理", "固體廢物管理", (
        Concept("waste-sorting", "waste sorting", "垃圾分类", "垃圾分類", ("垃圾", "分类")),
        Concept("recycling", "recycling", "资源回收利用", "資源回收利用", ("回收",)),
        Concept("incineration", "waste-to-energy plant", "垃圾焚烧发电厂", "垃圾焚燒發電廠", ("焚烧", "垃圾")),
        Concept("kitchen-waste", "food waste", "厨余垃圾", "廚餘垃圾", ("厨余",)),
        Concept("landfill", "landfill", "卫生填埋场", "衛生填埋場", ("填埋",)),
        Concept("construction-waste", "construction waste", "建筑垃圾", "建築垃圾", ("建筑", "垃圾")),
    )),
    Sector("municipal-finance", "Municipal Finance", "市政金融", "市政金融", (
        Concept("green-bond", "green bond", "绿色债券", "綠色債券", ("债券",)),
        Concept("ppp", "public-private partnership", "政府和社会资本合作", "政府和社會資本合作", ("资本", "合作"), "PPP项目"),
        Concept("special-bond", "special-purpose bond", "地方政府专项债", "地方政府專項債", ("专项",)),
        Concept("budget", "municipal budget", "财政预算", "財政預算", ("预算", "财政")),
        Concept("carbon-market", "carbon market", "碳排放权交易市场", "碳排放權交易市場", ("交易", "排放")),
        Concept("esg", "ESG rating", "环境社会治理评级", "環境社會治理評級", ("评级",), "ESG评级"),
    )),
)

# People: Chinese names with the common surnames, a few that differ by one character or
# contain another (张伟 and 张伟明 are two people), and European partners.
CHINESE_PEOPLE: tuple[tuple[str, str], ...] = (  # (simplified, traditional)
    ("王建国", "王建國"), ("王丽", "王麗"), ("李华", "李華"), ("李晓燕", "李曉燕"), ("张伟", "張偉"),
    ("张伟明", "張偉明"), ("张敏", "張敏"), ("刘洋", "劉洋"), ("陈静", "陳靜"), ("杨帆", "楊帆"),
    ("赵磊", "趙磊"), ("黄海涛", "黃海濤"), ("周婷", "周婷"), ("吴刚", "吳剛"), ("孙悦", "孫悅"),
)
LATIN_PEOPLE: tuple[str, ...] = (
    "Anna Schmidt", "Pieter de Vries", "Marco Rossi", "Sophie Martin", "Jan Kowalski",
    "Elena Garcia", "Lars Nielsen", "Claire Dubois", "James Wilson", "Katrin Weber",
)

YEARS = (2025, 2026, 2027, 2028, 2030)

# -- sentence templates ------------------------------------------------------------------------
# Slots: {city} {city_zh} {sector} {sector_zh} {concept} {concept_zh} {mixed} {person}
# {person_zh} {year} {n} {pct}.
# English templates use the words the English queries look for in their inflected forms
# (plan, plans, planned, planning; retrofit …); Chinese ones are how members write in the rooms.

EN_TEMPLATES: tuple[str, ...] = (
    "{city} is planning a new round of {concept} work for {year}, starting with {n} sites.",
    "The {concept} plan for {city} was approved by the district government last week.",
    "We planned the {concept} survey in {city} for March; {person} will lead it.",
    "{person} shared the plans for {concept} in {city}: about {n} million yuan over three years.",
    "Can anyone recommend a consultant for {concept}? {city} wants to retrofit {n} buildings.",
    "In {city}, {n} buildings were retrofitted last year and {concept} cut energy use by {pct} percent.",
    "Retrofitting the older blocks is the hardest part of {concept} in {city}.",
    "{city} installed {n} monitoring points as part of the {concept} pilot.",
    "The contractor is installing the {concept} equipment in {city} this month.",
    "How are other cities financing {concept}? {city} is looking at a green bond of {n} million.",
    "The {concept} project in {city} was financed through the municipal budget and a bank loan.",
    "Thanks {person}, the slides on {concept} in {city} were very useful.",
    "{person} visited {city} to discuss {concept} with the local planning bureau.",
    "Our team surveyed {n} households in {city}; most support {concept}.",
    "The flooding in {city} last summer showed why {concept} matters.",
    "Heating costs in {city} rose {pct} percent; {concept} could help.",
    "The new buses in {city} run on electricity, and {concept} is next on the list.",
    "{city} now charges a lower fee for {concept} in the pilot districts.",
    "Several cities are recycling their experience with {concept}; {city} is one of them.",
    "Investment in {concept} in {city} reached {n} million yuan in {year}.",
    "The report compares {concept} in {city} with two European cities.",
    "Does {city} publish data on {concept}? I could only find figures up to {year}.",
    "{person} will present the {concept} results from {city} at the webinar.",
    "Waste sorting stations in {city} are now open every evening, and {concept} is on the agenda.",
    "The mayor of {city} asked for a timetable for {concept} by {year}.",
    "The new wetland park in {city} also serves {concept}; {person} showed us the parks nearby.",
    "Around the park in {city}, {concept} is planned for {year}.",
    "In the {sector} group, {concept} came up again this week; {person} summarised it.",
)

ZH_TEMPLATES: tuple[str, ...] = (
    "{city_zh}计划在{year}年启动新一轮{concept_zh}工作，首批{n}个项目。",
    "{city_zh}的{concept_zh}方案上周已经通过区政府审批。",
    "{person_zh}将牵头{city_zh}{concept_zh}的调研，三月开始。",
    "请问有没有做过{concept_zh}的顾问可以推荐？{city_zh}有{n}栋楼需要改造。",
    "去年{city_zh}完成了{n}个项目，{concept_zh}让能耗下降了{pct}%。",
    "{person_zh}在会上介绍了{city_zh}推进{concept_zh}的经验。",
    "{city_zh}{concept_zh}项目的总投资约{n}亿元，其中一部分来自专项资金。",
    "感谢{person_zh}分享{city_zh}的{concept_zh}资料，很有参考价值。",
    "{city_zh}正在编制{concept_zh}的实施细则，预计{year}年底完成。",
    "关于{concept_zh}，{city_zh}和欧洲城市的做法有什么不同？",
    "{city_zh}市民对{concept_zh}的支持率达到{pct}%。",
    "下周{person_zh}会到{city_zh}实地考察{concept_zh}项目。",
    "{city_zh}的{concept_zh}试点已经覆盖{n}个社区。",
    "{concept_zh}是{city_zh}今年的重点工作之一。",
    "市长要求{city_zh}在{year}年前完成{concept_zh}任务。",
    "有没有{city_zh}{concept_zh}的最新数据？我只找到{year}年的。",
    "{city_zh}和平路片区的{concept_zh}明天开工。",
    "{city_zh}市长{person_zh}听取了{concept_zh}工作汇报。",
    "{sector_zh}组本月讨论最多的话题是{concept_zh}。",
)

# Traditional-character templates (members from Hong Kong and Taiwan, and pasted sources).
TRAD_TEMPLATES: tuple[str, ...] = (
    "{city_zh}的{concept_zh}項目進展順利，{person_zh}負責技術支持。",
    "關於{city_zh}的{concept_zh}，我們在{year}年做過一次評估。",
    "{city_zh}正在推動{concept_zh}，預計投資{n}億元。",
    "{sector_zh}專題：{city_zh}{concept_zh}的經驗值得推廣。",
)

# Mixed: Chinese sentences with Latin acronyms and words inside, as people type them.
MIXED_TEMPLATES: tuple[str, ...] = (
    "{city_zh}的{mixed}项目下个月开会讨论，{person}也会参加。",
    "{mixed}在{city_zh}的进展：已完成{pct}%，PPT已经发群里了。",
    "Meeting notes: {city_zh}{mixed}，budget约{n}亿元，deadline是{year}年底。",
    "{person}问{city_zh}的{mixed}有没有English版本的资料。",
    "{city} update: {mixed}试点扩大到{n}个街道。",
    "{city}的{concept_zh}项目，{person}下周去看，有问题在{sector}群里说。",
)

# Sentences with look-alikes: words that contain a query's characters or letters without being
# what it asks for. Each is (text, language). generate.py mixes them into some texts.
LOOKALIKE_SENTENCES: tuple[tuple[str, str], ...] = (
    ("周末{city_zh}有一场公众开放日，欢迎参加。", "zh"),  # 周 (a surname) in 周末 (weekend)
    ("每周一上午{city_zh}例会，请准时。", "zh"),  # 周 in 每周
    ("出差的行李太多了，下次带少一点。", "zh"),  # 李 in 行李 (luggage)
    ("{city_zh}新区扩张太快，配套设施跟不上。", "zh"),  # 张 in 扩张 (expansion)
    ("黄河沿岸的生态修复也值得关注。", "zh"),  # 黄 in 黄河 (the Yellow River)
    ("老城区的陈旧管网需要尽快更换。", "zh"),  # 陈 in 陈旧 (outdated)
    ("{city_zh}城市长期发展需要稳定的资金来源。", "zh"),  # 市长 (mayor) across 城市|长期
    ("政府和平台公司的债务边界要划清。", "zh"),  # 和平 (peace) across 和|平台
    ("{city_zh}的公共交通分担率还不到{pct}%。", "zh"),  # 公共交通: not 公交
    ("{city_zh}城市总体规划修编已经启动。", "zh"),  # 城市总体规划: not 城市规划
    ("Protecting the planet starts with what each city builds.", "en"),  # planet: not plan
    ("The planner from {city} could not join today.", "en"),  # planner: not plan
    ("Parking near the station in {city} is still free.", "en"),  # parking: not park
    ("Speakers: Schmidt, Anna; Rossi, Marco; Martin, Sophie.", "en"),  # not "Anna Schmidt"
)

# Text only documents have: headings and longer paragraphs.
DOC_TITLES_EN: tuple[str, ...] = (
    "{city}: {concept} implementation plan ({year})",
    "{concept} in {city}: lessons from the pilot",
    "Feasibility study: {concept} for {city}",
    "{city} {concept} progress report {year}",
)
DOC_TITLES_ZH: tuple[str, ...] = (
    "{city_zh}{concept_zh}实施方案（{year}年）",
    "{city_zh}{concept_zh}试点经验总结",
    "{city_zh}{concept_zh}可行性研究报告",
    "{city_zh}{year}年{concept_zh}进展报告",
)
DOC_PARAGRAPHS_EN: tuple[str, ...] = (
    "This chapter describes the baseline in {city} and the targets for {concept} until {year}.",
    "The working group held {n} meetings with residents, operators and the finance bureau.",
    "Costs were estimated from {n} comparable projects; the uncertainty is about {pct} percent.",
    "Monitoring data will be published every quarter on the city's open data portal.",
    "The main risks are delays in land approval and the capacity of local contractors.",
    "European partners contributed a review of similar schemes in Germany and the Netherlands.",
)
DOC_PARAGRAPHS_ZH: tuple[str, ...] = (
    "本章介绍{city_zh}的现状以及到{year}年{concept_zh}的目标。",
    "工作组与居民、运营单位和财政部门共召开了{n}次座谈会。",
    "成本根据{n}个同类项目估算，不确定性约为{pct}%。",
    "监测数据将每季度在城市开放数据平台公布。",
    "主要风险包括用地审批延迟和本地施工单位能力不足。",
    "欧洲合作伙伴提供了德国和荷兰类似项目的经验综述。",
)
