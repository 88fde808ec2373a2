"""The rooms that exist from the first start (docs/architecture.md), seeded by every migrate run:
their titles and what each is for (shown in the first-visit welcome and under the room's title),
in English and Simplified Chinese. A migrate run writes changed descriptions into the rooms."""

from __future__ import annotations

from chat.models import Room, RoomKind


def _room(room_id: str, kind: RoomKind, title_en: str, title_zh: str, about_en: str, about_zh: str) -> Room:
    return Room(room_id, kind, title_en, title_zh, description_en=about_en, description_zh=about_zh)


SEED_ROOMS: tuple[Room, ...] = (
    _room("urban-renewal", "sector", "Urban Renewal", "城市更新",
          "Regenerating existing neighbourhoods: old residential areas, brownfield sites, public"
          " space and heritage, and how residents take part in the planning.",
          "既有城区的更新改造：老旧小区、棕地、公共空间与历史遗产保护，以及居民如何参与规划。"),
    _room("green-buildings", "sector", "Green Buildings", "绿色建筑",
          "Energy-efficient new buildings and retrofits: building standards, insulation, heating and"
          " cooling, certification and the experience of projects in both regions.",
          "新建建筑节能与既有建筑改造：建筑标准、保温、供暖与制冷、绿色认证，以及中欧项目经验交流。"),
    _room("green-transport", "sector", "Green Transport", "绿色交通",
          "Low-carbon mobility: bus rapid transit (BRT), cycling and walking, electric buses and"
          " transit-oriented development (TOD).",
          "低碳出行：快速公交（BRT）、自行车与步行、电动公交，以及以公共交通为导向的开发（TOD）。"),
    _room("clean-energy", "sector", "Clean Energy Utilization", "清洁能源利用",
          "Renewable and cleaner energy for cities: solar and heat pumps, district heating,"
          " energy planning and how to finance the switch.",
          "城市的可再生与清洁能源：太阳能与热泵、区域供热、能源规划，以及能源转型的融资方式。"),
    _room("water-management", "sector", "Water Management", "水资源管理",
          "Water in the city: drinking water and wastewater, flood protection, sponge-city"
          " approaches and the care of rivers and lakes.",
          "城市水资源：供水与污水处理、防洪排涝、海绵城市建设，以及河湖保护。"),
    _room("solid-waste", "sector", "Solid Waste Management", "固体废物管理",
          "Less waste and more reuse: sorting and collection, recycling, treatment facilities and"
          " the circular economy.",
          "减量与再利用：垃圾分类与收运、资源回收、处理设施，以及循环经济。"),
    _room("municipal-finance", "sector", "Municipal Finance", "市政金融",
          "Paying for sustainable urbanisation: municipal budgets, green bonds, public-private"
          " partnerships and preparing projects that lenders can fund.",
          "为可持续城镇化筹资：城市财政预算、绿色债券、政府和社会资本合作（PPP），以及编制可融资的项目。"),
    _room("zhuhai", "city", "Zhuhai", "珠海",
          "The pilot city of Zhuhai, on the coast of the Pearl River Delta: its sustainable"
          " urbanisation projects, questions for experts and news from the city.",
          "珠江三角洲沿海的试点城市珠海：可持续城镇化项目、向专家提问以及城市动态。"),
    _room("luoyang", "city", "Luoyang", "洛阳",
          "The pilot city of Luoyang, a historic city in Henan: its pilot projects, from renewal of"
          " older districts to cleaner transport, and questions for experts.",
          "河南历史文化名城、试点城市洛阳：从老城区更新到绿色交通等试点项目，以及向专家提问。"),
    _room("weihai", "city", "Weihai", "威海",
          "The pilot city of Weihai, on the Shandong coast: its sustainable urbanisation projects,"
          " questions for experts and news from the city.",
          "山东沿海的试点城市威海：可持续城镇化项目、向专家提问以及城市动态。"),
    _room("changzhou", "city", "Changzhou", "常州",
          "The pilot city of Changzhou, in the Yangtze River Delta: its pilot projects, questions for"
          " experts and news from the city.",
          "长江三角洲的试点城市常州：试点项目、向专家提问以及城市动态。"),
    _room("guilin", "city", "Guilin", "桂林",
          "The pilot city of Guilin, in Guangxi, known for its karst landscape: its pilot projects,"
          " where growth and tourism meet care for the environment.",
          "以喀斯特山水闻名的广西试点城市桂林：兼顾城市发展、旅游与生态保护的试点项目。"),
    _room("hefei", "city", "Hefei", "合肥",
          "The pilot city of Hefei, capital of Anhui: its sustainable urbanisation projects,"
          " questions for experts and news from the city.",
          "安徽省会、试点城市合肥：可持续城镇化项目、向专家提问以及城市动态。"),
    _room("liuzhou", "city", "Liuzhou", "柳州",
          "The pilot city of Liuzhou, an industrial city in Guangxi: its pilot projects, questions"
          " for experts and news from the city.",
          "广西工业城市、试点城市柳州：试点项目、向专家提问以及城市动态。"),
    _room("qingdao", "city", "Qingdao", "青岛",
          "The pilot city of Qingdao, a port city on the Shandong coast: its sustainable"
          " urbanisation projects, questions for experts and news from the city.",
          "山东沿海港口城市、试点城市青岛：可持续城镇化项目、向专家提问以及城市动态。"),
    _room("zhuzhou", "city", "Zhuzhou", "株洲",
          "The pilot city of Zhuzhou, an industrial city in Hunan: its pilot projects, questions for"
          " experts and news from the city.",
          "湖南工业城市、试点城市株洲：试点项目、向专家提问以及城市动态。"),
    _room("xixian", "city", "Xixian New Area", "西咸新区",
          "The Xixian New Area in Shaanxi, between Xi'an and Xianyang: its pilot projects for a"
          " new urban area, questions for experts and news.",
          "陕西西安与咸阳之间的西咸新区：新城区建设的试点项目、向专家提问以及最新动态。"),
)
