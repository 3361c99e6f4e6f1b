"""Word lists and review templates for the synthetic member base.

Reviews are assembled from short phrases whose sentiment matches the rating, in
Simplified Chinese, Traditional Chinese and English; complaints name a pain point.
"""

from __future__ import annotations

SURNAMES = (
    "王",
    "李",
    "张",
    "刘",
    "陈",
    "杨",
    "黄",
    "赵",
    "吴",
    "周",
    "徐",
    "孙",
    "马",
    "朱",
    "胡",
)
SURNAMES_PINYIN = (
    "wang",
    "li",
    "zhang",
    "liu",
    "chen",
    "yang",
    "huang",
    "zhao",
    "wu",
    "zhou",
    "xu",
    "sun",
    "ma",
    "zhu",
    "hu",
)
GIVEN = (
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "霞",
    "平",
)
GIVEN_PINYIN = (
    "wei",
    "fang",
    "na",
    "min",
    "jing",
    "li",
    "qiang",
    "lei",
    "jun",
    "yang",
    "yong",
    "yan",
    "jie",
    "juan",
    "tao",
    "ming",
    "chao",
    "xiuying",
    "xia",
    "ping",
)
EN_FIRST = ("James", "Mary", "John", "Linda", "David", "Susan", "Peter", "Emma", "Oliver", "Amy")
EN_LAST = ("Smith", "Brown", "Taylor", "Wilson", "Evans", "Thomas", "Roberts", "Walker")
EMAIL_DOMAINS = ("qq.com", "163.com", "126.com", "gmail.com", "outlook.com", "example.com")

CITIES = (  # city, region, timezone, locale
    ("上海", "上海", "Asia/Shanghai", "zh-CN"),
    ("北京", "北京", "Asia/Shanghai", "zh-CN"),
    ("广州", "广东", "Asia/Shanghai", "zh-CN"),
    ("深圳", "广东", "Asia/Shanghai", "zh-CN"),
    ("杭州", "浙江", "Asia/Shanghai", "zh-CN"),
    ("成都", "四川", "Asia/Shanghai", "zh-CN"),
    ("武汉", "湖北", "Asia/Shanghai", "zh-CN"),
    ("南京", "江苏", "Asia/Shanghai", "zh-CN"),
    ("臺北", "臺灣", "Asia/Taipei", "zh-TW"),
    ("香港", "香港", "Asia/Hong_Kong", "zh-TW"),
    ("London", "England", "Europe/London", "en"),
)
CITY_WEIGHTS = (0.16, 0.14, 0.1, 0.1, 0.09, 0.08, 0.07, 0.06, 0.1, 0.05, 0.05)
OCCUPATIONS = (
    "office worker",
    "teacher",
    "engineer",
    "student",
    "self-employed",
    "retired",
    "healthcare",
    "designer",
)
EDUCATION = ("high school", "college", "bachelor", "master", "doctorate")

CATEGORIES = (
    "baby",
    "beauty",
    "coffee",
    "snacks",
    "fresh",
    "household",
    "electronics",
    "apparel",
    "books",
    "pets",
    "sports",
    "toys",
)
CATEGORY_ZH = (
    "母婴",
    "美妆",
    "咖啡",
    "零食",
    "生鲜",
    "家居",
    "数码",
    "服饰",
    "图书",
    "宠物",
    "运动",
    "玩具",
)
CATEGORY_PRICE = (120.0, 180.0, 45.0, 30.0, 40.0, 60.0, 900.0, 220.0, 50.0, 90.0, 260.0, 110.0)
BRANDS = ("Aurora", "Bamboo", "Cedar", "Delta", "Ember", "Fable", "Gala", "Harbor")
SEARCH_TERMS = (
    "奶粉",
    "口红",
    "咖啡豆",
    "薯片",
    "车厘子",
    "洗衣液",
    "耳机",
    "连衣裙",
    "小说",
    "猫粮",
    "跑鞋",
    "积木",
    "diapers",
    "lipstick",
    "coffee beans",
)

POSITIVE = {
    "zh-CN": (
        "质量很好，下次还来",
        "物流很快，包装完好",
        "味道不错，性价比高",
        "客服态度好，推荐",
        "和描述一致，很满意",
    ),
    "zh-TW": (
        "品質很好，下次還來",
        "物流很快，包裝完好",
        "味道不錯，性價比高",
        "客服態度好，推薦",
        "和描述一致，很滿意",
    ),
    "en": (
        "Great quality, will buy again",
        "Fast delivery, well packed",
        "Tastes good, worth the price",
        "Friendly service, recommended",
        'Exactly as described, "very" happy',
    ),
}
NEUTRAL = {
    "zh-CN": ("还可以，一般般", "东西正常，没什么特别"),
    "zh-TW": ("還可以，一般般", "東西正常，沒什麼特別"),
    "en": ("It's okay, nothing special", "Average, does the job"),
}
PAIN_POINTS = {  # the same pain points in each language, in one order
    "zh-CN": ("送货太慢了", "包装破损", "发错货了", "店员态度差", "价格太贵", "质量很差"),
    "zh-TW": ("送貨太慢了", "包裝破損", "發錯貨了", "店員態度差", "價格太貴", "品質很差"),
    "en": (
        "delivery was late",
        "packaging was damaged",
        "wrong item sent",
        "rude staff",
        "price too high",
        "poor quality",
    ),
}
NEGATIVE_TAIL = {
    "zh-CN": "，很失望",
    "zh-TW": "，很失望",
    "en": ", very disappointed",
}
