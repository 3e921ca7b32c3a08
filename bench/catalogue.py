"""A synthetic but realistic service catalogue (yiwang-catalogue v1) of any size, for benchmarks.

    python -m bench.catalogue --items 87000 --out /tmp/catalogue.json [--seed 2026] [--per-file 10000]

Items are spread over the department tree of `app.registry.generator.departments()`; their names come from
a vocabulary of real Guangdong service item names (居民身份证申领, 食品经营许可, 住房公积金提取 …) with the
qualifiers real catalogues carry (（变更）（延续）（注销）, sub-situations, district and town names), and
summaries mix the colloquial words people search with (社保, 户口, 公积金, 执照, 医保). The same seed always
gives the same file. Nothing here touches the database: the output is meant for `python -m app catalog
import FILE` or `app.catalog.services.import_catalogue`. A catalogue larger than the importer takes in one file
(`app.catalog.schema.MAX_ITEMS`) is written as FILE-01.json, FILE-02.json … (each with all types and synonyms).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.catalog import schema
from app.registry.generator import departments

DEFAULT_SEED = 2026
CITY_ITEMS = 6_494  # one prefecture-level city's catalogue
PROVINCE_ITEMS = 87_000  # the Guangdong hall's figure
# The most items validate_catalogue accepts in one document (it was 10,000 before schema.MAX_ITEMS); larger
# catalogues are written, and imported, as several files.
MAX_ITEMS_PER_FILE: int = getattr(schema, "MAX_ITEMS", 10_000)

# --- vocabulary ------------------------------------------------------------------------------------------

LICENCE = ("新办", "变更", "延续", "注销", "补办", "换证")
REGISTRATION = ("首次", "变更", "注销", "补办", "更正")
BENEFIT = ("个人申请", "单位代办", "委托代办", "首次申领", "待遇变更", "待遇终止")
DECLARATION = ("按月", "按季", "按次", "年度", "更正申报", "逾期申报")
SERVICE = ("预约", "现场办理", "网上办理", "补办", "查询", "变更")
PERSON_SUBS = (
    "本市户籍", "非本市户籍", "跨省通办", "省内通办", "港澳台居民", "外国人", "未成年人", "60周岁以上老年人",
    "现役军人", "退役军人", "灵活就业人员", "在校学生", "一般情形", "特殊情形", "告知承诺制",
)
ENTERPRISE_SUBS = (
    "有限责任公司", "个体工商户", "农民专业合作社", "分支机构", "外商投资企业", "个人独资企业", "合伙企业",
    "内资企业", "一般情形", "容缺受理", "告知承诺制", "跨省通办", "省内通办", "集团企业",
)


@dataclass(frozen=True)
class Group:
    """Base names sharing a department kind, a power kind, an audience, life events and wording."""

    dept_kind: str
    kind: str
    audience: tuple[str, ...]
    events: tuple[str, ...]
    qualifiers: tuple[str, ...]
    topics: tuple[str, ...]
    names: str
    town: bool = False  # a town or street service centre may take these too

    @property
    def bases(self) -> list[str]:
        return self.names.split()


GROUPS: tuple[Group, ...] = (
    Group("police", "行政确认", ("person",), ("户籍",), REGISTRATION, (
        "新生儿出生后一个月内应到户口所在地派出所办理出生登记，落户后即可办理社保和医保参保",
        "户口迁移实行准迁证电子化，群众无需往返迁出地和迁入地两地跑",
        "办理后户籍信息与居民身份证信息同步更新",
        "子女可随父或随母落户，户口簿信息当场打印",
        "符合条件的人才引进、投靠亲属人员可申请户口迁入本市",
    ), """出生登记 户口迁移 户口迁入 户口迁出 户口注销 死亡人员户口注销 户口恢复 户籍信息变更更正 姓名变更登记
        民族成分变更 出生日期更正 户口登记项目变更 夫妻投靠入户 父母投靠子女入户 子女投靠父母入户 人才引进入户
        积分入户 应届毕业生入户 退役军人落户 无户口人员登记户口 户籍证明开具 居住证申领 居住证签注 居住登记
        居民身份证申领 居民身份证换领 居民身份证补领 临时居民身份证申领 首次申领居民身份证 港澳台居民居住证申领""",
        town=True),
    Group("police", "行政许可", ("person",), ("出行",), SERVICE, (
        "护照和往来港澳通行证可在全省任一出入境窗口办理，无需回户口所在地",
        "符合条件的可申请加急办理，证件可邮寄到家",
        "申请人须本人到场采集指纹和照片，出示居民身份证",
        "港澳签注可在自助签注机上办理，立等可取",
    ), """普通护照签发 普通护照换发 普通护照补发 往来港澳通行证签发 往来港澳通行证再次签注 往来台湾通行证签发
        赴台签注签发 出入境证件加注 外国人居留许可签发 外国人签证延期 外国人停留证件签发 出入境记录查询
        港澳居民来往内地通行证换发 台湾居民来往大陆通行证签发"""),
    Group("police", "行政许可", ("person",), ("出行",), REGISTRATION, (
        "驾照期满前九十日内可申请换证，可通过交管12123网上办理",
        "机动车驾驶证和行驶证业务实行全国通办",
        "申请人应提交有效的身体条件证明，可在医院自助体检后网上申报",
        "机动车登记业务可在4S店代办点办理，车主无需到车管所",
    ), """机动车驾驶证申领 机动车驾驶证换证 机动车驾驶证补证 驾驶证期满换证 驾驶证转入 驾驶人体检信息申报
        机动车注册登记 机动车转移登记 机动车变更登记 机动车抵押登记 机动车注销登记 机动车检验合格标志核发
        机动车号牌补领 临时行驶车号牌核发 交通违法处理 交通事故认定复核 非机动车登记"""),
    Group("police", "行政许可", ("enterprise", "person"), ("经营",), LICENCE, (
        "经营单位应当具备与经营规模相适应的治安安全防范设施和管理制度",
        "申请人须提交营业执照、法定代表人身份证明及场所平面图",
        "公安机关现场核查后作出是否许可的决定",
    ), """旅馆业特种行业许可证核发 公章刻制业特种行业许可 印章刻制备案 典当业特种行业许可 保安服务许可
        保安员证核发 大型群众性活动安全许可 剧毒化学品购买许可 易制毒化学品购买备案 烟花爆竹道路运输许可
        民用爆炸物品购买许可 犬只登记 无犯罪记录证明开具 互联网上网服务营业场所信息网络安全审核 养犬登记证补办"""),
    Group("market", "行政许可", ("enterprise",), ("开办", "变更", "注销"), REGISTRATION, (
        "新开办企业可一网通办，一次提交即可同步领取营业执照、刻制公章和申领发票",
        "营业执照电子证照可在粤商通小程序调取，办事时免提交纸质执照",
        "个体户执照可全程网办，名称自主申报，当天出照",
        "企业登记实行容缺受理，次要材料可后补",
        "领取营业执照后应在三十日内办理税务登记和社保登记",
    ), """有限责任公司设立登记 股份有限公司设立登记 个人独资企业设立登记 合伙企业设立登记 个体工商户注册登记
        个体工商户变更登记 个体工商户注销登记 农民专业合作社设立登记 分公司设立登记 企业名称自主申报 企业变更登记
        企业注销登记 简易注销登记 企业备案 营业执照补领 营业执照换发 外商投资企业设立登记 企业迁移登记
        股权出质登记 动产抵押登记 企业年度报告公示 经营异常名录移出"""),
    Group("market", "行政许可", ("enterprise",), ("经营",), LICENCE, (
        "申请人应当先取得营业执照等合法主体资格，经营场所应符合食品安全要求",
        "许可证电子证书与纸质证书具有同等法律效力",
        "许可有效期届满需要延续的，应在届满前三十个工作日提出申请",
        "市场监管部门对申请材料实行告知承诺，现场核查在许可后进行",
    ), """食品经营许可 食品生产许可 食品小作坊登记 小餐饮登记 食品摊贩登记 保健食品广告审查
        特殊医学用途配方食品广告审查 工业产品生产许可 特种设备使用登记 特种设备安装改造维修告知
        特种设备作业人员资格认定 特种设备检验检测机构核准 计量器具型式批准 计量标准器具核准 检验检测机构资质认定
        商标专用权质权登记 专利实施许可合同备案 药品经营许可 药品零售企业许可 第二类医疗器械经营备案
        第三类医疗器械经营许可 医疗器械网络销售备案 化妆品生产许可 药品网络销售备案 执业药师注册 消费投诉处理"""),
    Group("tax", "行政确认", ("enterprise",), ("纳税",), DECLARATION, (
        "纳税人可通过广东省电子税务局或粤税通小程序全程网上办理",
        "新办纳税人领取营业执照后即可套餐式办理涉税事项",
        "可申领数电发票，无需领购纸质发票",
        "符合条件的小规模纳税人可享受增值税减免优惠",
    ), """税务登记 跨区域涉税事项报告 增值税一般纳税人登记 发票领用 发票代开 增值税专用发票最高开票限额审批
        发票票种核定 增值税申报 企业所得税月季度预缴申报 企业所得税年度汇算清缴 个人所得税经营所得申报
        印花税申报 房产税申报 城镇土地使用税申报 出口退税备案 出口退税申报 纳税信用修复 纳税人信息变更
        清税证明开具 纳税证明开具 税收减免备案 残疾人就业保障金申报 文化事业建设费申报 环境保护税申报
        个体工商户定期定额核定 注销税务登记 非正常户解除"""),
    Group("tax", "行政征收", ("person",), ("社保", "住房"), DECLARATION, (
        "社保费由税务部门统一征收，可通过粤税通、粤省事或银行代扣缴纳",
        "城乡居民医保和养老保险费可在线缴纳，缴费后次月享受待遇",
        "个人所得税汇算可在个人所得税APP办理，退税款直达银行卡",
        "购房契税可在不动产登记窗口一并缴纳",
    ), """个人所得税综合所得汇算清缴 契税申报 车辆购置税申报 完税证明开具 社会保险费缴费登记
        城乡居民基本养老保险费缴纳 城乡居民基本医疗保险费缴纳 灵活就业人员社会保险费缴纳 社保费缴费证明开具
        个人社保费补缴""", town=True),
    Group("hrss", "行政确认", ("person", "enterprise"), ("社保", "就业"), BENEFIT, (
        "参保人可通过粤省事查询社保缴费记录和个人权益记录",
        "社会保险关系可跨省转移接续，缴费年限累计计算",
        "用人单位应当自用工之日起三十日内为职工办理社保参保登记",
        "社保卡是参保人享受社会保险待遇的凭证，可用于就医结算",
        "失业人员可通过粤省事申领失业保险金，不受户籍限制",
    ), """社会保险参保登记 社会保险登记变更 社会保险注销登记 职工参保登记 城乡居民养老保险参保登记
        基本养老保险关系转移接续 失业登记 失业保险金申领 失业补助金申领 失业保险关系转移接续 稳岗返还申领
        技能提升补贴申领 工伤认定申请 劳动能力鉴定 工伤保险待遇核定 工伤医疗费报销 一次性伤残补助金申领
        就业登记 就业困难人员认定 灵活就业社保补贴申领 创业补贴申领 创业担保贷款申请 社会保障卡申领
        社会保障卡补换 社会保障卡挂失 社保卡申领 社保卡补换 社会保险个人权益记录查询 参保缴费证明打印
        高校毕业生就业见习补贴 港澳台人员就业登记""", town=True),
    Group("hrss", "行政给付", ("person",), ("退休", "社保"), BENEFIT, (
        "退休人员养老金按月发放到社保卡银行账户",
        "养老金领取资格认证可刷脸完成，无需到社保经办窗口",
        "参保人员达到法定退休年龄且累计缴费满十五年的，可按月领取基本养老金",
        "参保人员因病或非因工死亡的，遗属可申领丧葬补助金和抚恤金",
    ), """企业职工基本养老保险待遇申领 养老金领取资格认证 退休人员基本养老金申领 城乡居民养老保险待遇申领
        个人账户一次性待遇申领 丧葬补助金申领 抚恤金申领 遗属待遇申领 退休审批 特殊工种提前退休审批""",
        town=True),
    Group("hrss", "行政许可", ("enterprise",), ("用工",), LICENCE, (
        "用人单位可通过广东省人社厅网上服务平台申报",
        "人力资源社会保障部门审查后作出许可决定并颁发许可证",
        "企业用工备案后可同步办理社保参保和公积金缴存登记",
    ), """劳动人事争议仲裁申请 劳务派遣经营许可 人力资源服务许可 企业实行不定时工作制审批 企业年金方案备案
        集体合同审查 外国人来华工作许可 欠薪投诉 农民工工资保证金存储 人才住房补贴申领 博士后科研工作站设立
        职业技能等级认定 职业资格证书补发 专业技术人员职称评审"""),
    Group("medical", "行政给付", ("person",), ("医疗", "社保"), BENEFIT, (
        "医保参保人可通过粤医保小程序或粤省事办理，无需到窗口",
        "医保电子凭证可替代实体社保卡就医结算和购药",
        "跨省异地就医直接结算，参保人无需垫付医疗费",
        "新生儿出生后可凭出生医学证明办理医保参保，出生当月起享受待遇",
        "职工医保个人账户可家庭共济，用于支付配偶、父母、子女的医疗费用",
    ), """基本医疗保险参保登记 城乡居民医疗保险参保登记 职工医疗保险参保登记 医疗保险关系转移接续 异地就医备案
        异地长期居住人员备案 临时外出就医人员备案 门诊特定病种待遇认定 医疗费用手工报销 生育医疗费用报销
        生育津贴申领 生育保险待遇核定 医疗救助申请 长期护理保险待遇申请 医保电子凭证激活 医保个人账户家庭共济
        医保定点医疗机构申请 医保定点零售药店申请 医保参保凭证打印 新生儿医保参保登记 大学生医保参保登记
        灵活就业人员医保参保登记 医保缴费基数申报 医疗保险待遇暂停""", town=True),
    Group("housingfund", "公共服务", ("person", "enterprise"), ("住房",), SERVICE, (
        "公积金可用于购房、租房和偿还住房贷款，提取后资金直接转入本人银行卡",
        "缴存职工可通过珠海公积金小程序或粤省事查询公积金余额和缴存明细",
        "住房公积金贷款利率低于商业贷款，首套房最高可贷额度按缴存余额计算",
        "单位应当在职工入职之日起三十日内办理公积金缴存登记",
        "租房提取公积金每月可提取一次，无需提供租赁合同",
    ), """住房公积金缴存登记 住房公积金单位缴存登记 住房公积金个人账户设立 住房公积金个人账户封存
        住房公积金个人账户启封 住房公积金缴存基数调整 住房公积金缴存比例调整 住房公积金补缴 住房公积金缓缴
        住房公积金提取 购房提取住房公积金 租房提取住房公积金 离职提取住房公积金 退休提取住房公积金
        偿还住房贷款提取住房公积金 住房公积金转移接续 住房公积金贷款申请 住房公积金贷款提前还款
        住房公积金贷款变更 住房公积金缴存证明开具 灵活就业人员住房公积金缴存 公积金异地贷款缴存证明"""),
    Group("health", "行政许可", ("person", "enterprise"), ("医疗",), LICENCE, (
        "医师和护士执业注册实行电子化注册，可在线提交申请",
        "医疗机构执业登记可与设置审批合并办理",
        "申请人应当具备相应的执业资格并在拟执业机构工作",
    ), """医师执业注册 医师变更执业注册 医师多机构备案 护士执业注册 护士延续注册 医疗机构执业登记
        医疗机构设置审批 诊所备案 母婴保健技术服务执业许可 放射诊疗许可 公共场所卫生许可 饮用水供水单位卫生许可
        消毒产品生产企业卫生许可 职业病诊断 中医诊所备案 乡村医生执业注册 医疗广告审查 托育机构备案
        病原微生物实验室备案"""),
    Group("health", "公共服务", ("person",), ("生育", "医疗"), SERVICE, (
        "出生医学证明是新生儿申报户口的依据，由助产机构签发",
        "生育登记可通过粤省事线上办理，办理后享受孕产期保健服务",
        "符合条件的计划生育家庭可按年领取奖励扶助金",
        "新生儿出生后可一次办理出生医学证明、户口登记和医保参保",
    ), """出生医学证明签发 出生医学证明补发 出生医学证明换发 预防接种证补办 独生子女父母光荣证核发
        计划生育奖励扶助 再生育登记 生育登记 婚前医学检查 健康证明办理 孕产妇保健手册建册 新生儿疾病筛查""",
        town=True),
    Group("civil", "行政确认", ("person",), ("婚姻",), SERVICE, (
        "结婚登记实行全国通办，男女双方持本人居民身份证和户口簿共同到婚姻登记处办理",
        "婚姻登记可通过粤省事预约，当场领取结婚证",
        "补领婚姻登记证需本人到场，婚姻登记处查档后当场补发",
    ), """结婚登记 离婚登记 补领结婚证 补领离婚证 撤销婚姻登记 婚姻登记记录证明 收养登记 解除收养登记"""),
    Group("civil", "行政给付", ("person",), ("社保", "医疗"), BENEFIT, (
        "低保对象同时可享受医疗救助和临时救助，医保个人缴费部分由政府资助",
        "申请人向户籍所在地或居住地的镇街便民服务中心提出申请",
        "残疾人两项补贴按月发放，可通过粤省事申请",
        "八十周岁以上本市户籍老年人可申领高龄津贴",
    ), """最低生活保障审批 特困人员救助供养审批 临时救助 低收入家庭认定 高龄津贴申领 残疾人两项补贴申领
        困难残疾人生活补贴 重度残疾人护理补贴 孤儿基本生活费申领 事实无人抚养儿童认定 困难群众医疗救助
        流浪乞讨人员救助 残疾人证办理 残疾人证换领 残疾人证迁移 老年人优待证办理""", town=True),
    Group("civil", "行政许可", ("enterprise",), ("开办", "变更", "注销"), REGISTRATION, (
        "社会组织登记实行网上申请，民政部门审查后颁发登记证书",
        "养老机构备案后可申请运营补贴和床位补贴",
        "申请人应提交章程草案、住所证明和负责人身份证明",
    ), """社会团体成立登记 社会团体变更登记 社会团体注销登记 民办非企业单位成立登记 基金会设立登记
        养老机构备案 经营性公墓审批 慈善组织认定 地名命名更名审批 门牌号码编制"""),
    Group("realestate", "行政确认", ("person", "enterprise"), ("住房",), REGISTRATION, (
        "不动产登记与水电气网过户一并办理，群众只跑一次",
        "购房人可凭不动产权证书办理公积金提取和子女入学",
        "抵押登记可在银行网点直接办理，无需到不动产登记中心",
        "二手房交易、缴税和登记一窗受理，当天领证",
        "不动产权电子证照可用于办理户口迁入和公积金贷款",
    ), """不动产首次登记 国有建设用地使用权首次登记 房屋所有权首次登记 不动产转移登记 二手房转移登记
        商品房转移登记 继承不动产转移登记 不动产变更登记 不动产注销登记 不动产更正登记 不动产异议登记
        不动产预告登记 抵押权首次登记 抵押权注销登记 查封登记 不动产登记资料查询 不动产权证书补发
        不动产权证书换发"""),
    Group("realestate", "行政许可", ("enterprise",), ("经营",), LICENCE, (
        "建设单位可通过工程建设项目审批管理系统在线申报",
        "规划许可与用地审批合并办理，压缩审批时间",
        "申请人应当取得土地使用权并符合控制性详细规划",
    ), """建设用地规划许可 建设工程规划许可 乡村建设规划许可 建设项目用地预审与选址意见书 国有建设用地使用权出让
        临时用地审批 采矿权登记 探矿权登记 测绘资质审批 林木采伐许可 土地复垦方案审查 宅基地审批"""),
    Group("education", "公共服务", ("person",), ("上学",), SERVICE, (
        "随迁子女积分入学需提供居住证、社保缴费证明和住房证明",
        "义务教育入学申请可在线报名，学位按户籍和房产情况分类安排",
        "家庭经济困难学生可申请国家助学金和学费减免",
        "教师资格认定申请人须取得普通话水平测试等级证书",
    ), """教师资格认定 教师资格证补发 中小学教师资格定期注册 义务教育入学申请 随迁子女积分入学 学籍转移
        中考报名 高考报名 学历证明补办 普通话水平测试 学生资助申请 家庭经济困难学生认定 中等职业教育国家助学金
        学前教育资助 幼儿园入园登记"""),
    Group("education", "行政许可", ("enterprise",), ("开办", "经营"), LICENCE, (
        "举办者应提交办学章程、场地证明和师资情况",
        "教育行政部门审批后核发办学许可证",
    ), """民办学校设立 民办学校变更 民办学校终止 校外培训机构审批 幼儿园设立审批 教育收费备案"""),
    Group("transport", "行政许可", ("enterprise", "person"), ("经营", "出行"), LICENCE, (
        "网约车驾驶员应取得机动车驾驶证满三年，并通过从业资格考试",
        "道路运输证可电子化申领，车辆年审可网上办理",
        "经营者应当有与其经营业务相适应的车辆和驾驶人员",
        "许可证有效期届满前可申请延续",
    ), """道路运输经营许可 道路旅客运输经营许可 道路货物运输经营许可 道路危险货物运输许可 道路运输证配发
        道路运输从业人员从业资格证 网络预约出租汽车经营许可 网络预约出租汽车驾驶员证 巡游出租汽车经营许可
        机动车维修经营备案 机动车驾驶员培训备案 港口经营许可 船舶营业运输证 水路运输经营许可 船员适任证书
        公路超限运输许可 涉路施工许可 公路用地范围内设置非公路标志许可 道路运输车辆年度审验
        城市公共汽车客运线路经营许可"""),
    Group("hall", "行政许可", ("enterprise",), ("经营",), LICENCE, (
        "工程建设项目审批实行并联审批，一张表单一次提交",
        "排污单位应当依法申领排污许可证，未取得排污许可证的不得排放污染物",
        "企业可通过广东省投资项目在线审批监管平台申报",
        "申请人须提交营业执照、法定代表人身份证明和项目相关材料",
        "许可证到期需延续的，应在有效期届满六十日前提出申请",
    ), """建筑工程施工许可 建设工程竣工验收备案 建设工程消防设计审查 建设工程消防验收 商品房预售许可
        房屋建筑工程质量监督登记 建筑业企业资质核准 城镇污水排入排水管网许可 城市建筑垃圾处置核准
        临时占用城市道路许可 挖掘城市道路许可 城市绿地占用审批 排污许可 建设项目环境影响评价审批 危险废物经营许可
        辐射安全许可 固定资产投资项目备案 企业投资项目核准 节能审查 公众聚集场所投入使用营业前消防安全检查
        娱乐场所经营许可 网吧经营许可 营业性演出许可 出版物零售单位设立 旅行社设立许可 导游证核发 农药经营许可
        兽药经营许可 动物防疫条件合格证核发 种子生产经营许可 渔业捕捞许可 取水许可 河道管理范围内建设项目审批
        安全生产许可 危险化学品经营许可 烟花爆竹经营许可 人防工程建设审批 气象探测环境保护审查"""),
    Group("hall", "公共服务", ("person",), ("住房", "就业"), SERVICE, (
        "可在就近的镇街便民服务中心综合窗口办理，全市通办",
        "申请人可通过粤省事、广东政务服务网在线提交申请",
        "退役军人可凭退役证件和居民身份证办理，家属随军可同步办理户口迁移",
        "公共租赁住房申请人须在本市连续缴纳社保满一年",
        "一件事集成服务将出生、户口、医保、社保卡等事项一次办好",
    ), """法律援助申请 公证办理 司法鉴定机构登记 人民调解申请 退役军人优待证申领 退役士兵自主就业一次性经济补助
        军人家属随军落户 烈士褒扬金发放 住房租赁合同登记备案 公共租赁住房申请 人才公寓申请 购房资格审核
        政务服务评价投诉 政府信息公开申请 12345热线诉求受理 档案查询 港澳居民政务服务 新生儿出生一件事
        企业开办一件事 退休一件事 身后一件事 证明事项告知承诺""", town=True),
)

GENERIC = (
    "可通过广东政务服务网、粤省事或粤商通在线申请",
    "申请人也可到{place}综合窗口现场提交材料",
    "材料齐全、符合法定形式的当场受理",
    "办理结果可选择邮寄送达或窗口领取",
    "可委托他人代为办理，代办人需携带授权委托书和本人身份证",
    "本事项已实现跨省通办和省内通办",
    "已纳入证照免提交，可调用电子证照代替纸质材料",
    "办理进度可在个人网页或企业专属网页实时查询",
)
BASIS = (
    "《中华人民共和国行政许可法》", "《中华人民共和国户口登记条例》", "《中华人民共和国社会保险法》",
    "《住房公积金管理条例》", "《中华人民共和国市场主体登记管理条例》", "《中华人民共和国食品安全法》",
    "《中华人民共和国道路运输条例》", "《中华人民共和国城乡规划法》", "《排污许可管理条例》",
    "《中华人民共和国医师法》", "《中华人民共和国特种设备安全法》", "《不动产登记暂行条例》",
    "《婚姻登记条例》", "《社会救助暂行办法》", "《中华人民共和国税收征收管理法》", "《中华人民共和国居民身份证法》",
    "《中华人民共和国护照法》", "《中华人民共和国道路交通安全法》", "《广东省政务服务数据管理办法》",
)
HOURS = ("周一至周五 9:00-12:00，14:00-17:30", "周一至周六 9:00-17:00", "工作日 8:30-12:00，14:30-17:30（节假日除外）")

# material types: (code, name); one certificate type, issued by the market regulator's setup registrations.
MATERIAL_TYPES = (
    ("ID_CARD", "居民身份证"),
    ("HOUSEHOLD_REGISTER", "居民户口簿"),
    ("BUSINESS_LICENSE", "营业执照"),
    ("APPLICATION_FORM", "申请表"),
    ("POWER_OF_ATTORNEY", "授权委托书"),
    ("AGENT_ID_CARD", "代理人身份证"),
    ("MARRIAGE_CERT", "结婚证"),
    ("BIRTH_MEDICAL_CERT", "出生医学证明"),
    ("PROPERTY_CERT", "不动产权证书"),
    ("SOCIAL_SECURITY_CARD", "社会保障卡"),
    ("PHOTO", "近期免冠证件照片"),
    ("LEASE_CONTRACT", "房屋租赁合同"),
)
CERTIFICATE_TYPES = (("BUSINESS_LICENSE_CERT", "营业执照", "BUSINESS_LICENSE"),)
SYNONYMS = (
    ("社保", "社会保险"),
    ("公积金", "住房公积金"),
    ("执照", "营业执照"),
    ("户口", "户籍"),
    ("身份证", "居民身份证"),
    ("驾照", "机动车驾驶证"),
    ("医保", "医疗保险"),
)
_EXTRA_MATERIAL = {
    "户籍": ("household", "HOUSEHOLD_REGISTER"),
    "婚姻": ("marriage", "MARRIAGE_CERT"),
    "生育": ("birth", "BIRTH_MEDICAL_CERT"),
    "住房": ("property", "PROPERTY_CERT"),
    "社保": ("ssc", "SOCIAL_SECURITY_CARD"),
    "出行": ("photo", "PHOTO"),
}
_TOWN_PLACES = {"ZH-XZ": "香洲区", "ZH-DM": "斗门区", "ZH-JW": "金湾区"}


def _weight(level: str) -> int:
    return {"province": 1, "city": 3, "county": 2, "town": 1}[level]


def _departments_by_kind() -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for d in departments():
        out.setdefault(d["kind"], []).append(dict(d))
    return out


def _name(rng: random.Random, group: Group, base: str, department: dict[str, Any]) -> str:
    roll = rng.random()
    subs = PERSON_SUBS if group.audience[0] == "person" else ENTERPRISE_SUBS
    if roll < 0.30:
        name = base
    elif roll < 0.72:
        name = f"{base}（{rng.choice(group.qualifiers)}）"
    elif roll < 0.90:
        name = f"{base}（{rng.choice(group.qualifiers)}）（{rng.choice(subs)}）"
    else:
        name = f"{base}（{rng.choice(subs)}）"
    if department["level"] in ("county", "town") and rng.random() < 0.10:
        place = department["region_name"].removeprefix("广东省珠海市")
        name = place + name
    return name[:60]


def _summary(rng: random.Random, group: Group, base: str, department: dict[str, Any], promised: int,
             visits: int) -> str:
    place = department["short_name"]
    lead = f"{place}依法受理{base}申请" if rng.random() < 0.5 else f"本事项由{place}办理"
    sentences = [lead, rng.choice(group.topics)]
    extra = [s.format(place=place) for s in rng.sample(GENERIC, 3)]
    extra.append("全程网办，无需到现场" if visits == 0 else f"需到现场{visits}次核验原件")
    extra.append(f"承诺{promised}个工作日内办结" if promised else "即来即办，当场办结")
    rng.shuffle(extra)
    target = rng.randint(45, 150)

    def text(parts: list[str]) -> str:
        return "。".join(parts) + "。"

    while extra and len(text([*sentences, extra[0]])) <= target:
        sentences.append(extra.pop(0))
    out = text(sentences)
    if len(out) > 150:
        out = out[:149] + "。"
    while len(out) < 40:
        out += "详情请咨询12345政务服务热线。"
    return out


def _materials(rng: random.Random, audience: tuple[str, ...], events: tuple[str, ...],
               ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    def m(key: str, code: str, *, form: str = "原件", base: bool = True, ecert: bool = False,
          note: str = "") -> dict[str, Any]:
        return {"key": key, "material": code, "form": form, "copies": 1, "required": True, "base": base,
                "ecert": ecert, "note": note}

    materials = [m("application", "APPLICATION_FORM", form="原件", note="可在线填写")]
    if "enterprise" in audience and audience[0] == "enterprise":
        materials.append(m("license", "BUSINESS_LICENSE", form="原件及复印件", ecert=True))
        holder = "法定代表人"
    else:
        holder = "申请人"
    materials.append(m("id_card", "ID_CARD", ecert=True, note=f"{holder}本人"))
    for event in events:
        if event in _EXTRA_MATERIAL and rng.random() < 0.7:
            key, code = _EXTRA_MATERIAL[event]
            materials.append(m(key, code, form=rng.choice(("原件", "复印件", "原件及复印件")), ecert=code != "PHOTO"))
    materials.append(m("poa", "POWER_OF_ATTORNEY", base=False))
    materials.append(m("agent_id", "AGENT_ID_CARD", base=False))
    situations = [{"key": "agent", "question": "是否委托他人代办？", "answers": [
        {"key": "self", "text": "本人办理", "add": [], "remove": []},
        {"key": "agent", "text": "委托代办", "add": ["poa", "agent_id"], "remove": []},
    ]}]
    if rng.random() < 0.3:
        materials.append(m("lease", "LEASE_CONTRACT", form="复印件", base=False))
        situations.append({"key": "housing", "question": "住所是否为租赁？", "answers": [
            {"key": "own", "text": "自有住房", "add": [], "remove": []},
            {"key": "rent", "text": "租赁住房", "add": ["lease"], "remove": []},
        ]})
    return materials, situations


def _form(audience: tuple[str, ...]) -> list[dict[str, Any]]:
    if audience[0] == "enterprise":
        return [
            {"key": "entity_name", "label": "单位名称", "type": "text", "required": True, "prefill": "entity.name"},
            {"key": "uscc", "label": "统一社会信用代码", "type": "uscc", "required": True, "prefill": "entity.uscc"},
            {"key": "legal_rep", "label": "法定代表人", "type": "text", "required": True,
             "prefill": "entity.legal_rep_name"},
            {"key": "mobile", "label": "联系电话", "type": "mobile", "required": True, "prefill": "person.mobile"},
        ]
    return [
        {"key": "name", "label": "姓名", "type": "text", "required": True, "prefill": "person.name"},
        {"key": "id_number", "label": "公民身份号码", "type": "id_number", "required": True,
         "prefill": "person.id_number"},
        {"key": "mobile", "label": "联系电话", "type": "mobile", "required": True, "prefill": "person.mobile"},
        {"key": "reason", "label": "申请事由", "type": "textarea", "required": False, "max_length": 500,
         "prefill": None},
    ]


def generate(items: int, seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """The catalogue document: `items` items, the same for the same seed."""
    rng = random.Random(seed)
    by_kind = _departments_by_kind()
    town_halls = [d for d in by_kind["hall"] if d["level"] == "town"]
    choices: list[tuple[Group, str]] = [(g, b) for g in GROUPS for b in g.bases]
    # Popular bases (the first of each group: 出生登记, 社会保险参保登记 …) come up more often, as they do.
    weights = [3 if b == g.bases[0] else (2 if i < 5 else 1) for g in GROUPS for i, b in enumerate(g.bases)]
    sequence: dict[str, int] = {}
    out_items = []
    for _ in range(items):
        group, base = rng.choices(choices, weights)[0]
        pool = by_kind[group.dept_kind]
        if group.dept_kind == "hall":
            pool = [d for d in pool if d["level"] != "town"]
        if group.town:
            pool = pool + town_halls
        department = rng.choices(pool, [_weight(d["level"]) for d in pool])[0]
        sequence[department["code"]] = seq = sequence.get(department["code"], 0) + 1
        audience = group.audience if len(group.audience) == 1 or rng.random() < 0.6 else group.audience[:1]
        legal = rng.choice((0, 5, 10, 15, 20, 30, 60))
        promised = 0 if legal == 0 else rng.choice([d for d in (0, 1, 3, 5, 7, 10, 15, 20) if d <= legal])
        visits = rng.choices((0, 1, 2), (5, 4, 1))[0]
        name = _name(rng, group, base, department)
        events = tuple(e for e in group.events if rng.random() < 0.8)
        materials, situations = _materials(rng, audience, group.events)
        certificate = "BUSINESS_LICENSE_CERT" if group.dept_kind == "market" and group.events[0] == "开办" and (
            "设立" in base or "注册" in base) else None
        out_items.append({
            "code": f"{department['region_code']}-{department['code']}-{seq:06d}",
            "name": name,
            "department": department["code"],
            "kind": group.kind,
            "audience": [a for a in ("person", "enterprise") if a in audience],
            "life_events": list(events),
            "summary": _summary(rng, group, base, department, promised, visits),
            "basis": "、".join(rng.sample(BASIS, 2)),
            "conditions": f"符合{base}相关法律法规规定条件的{'单位' if audience[0] == 'enterprise' else '个人'}。",
            "procedure": ["网上申请或窗口提交", "受理", "审查", "决定", "送达"][: rng.randint(3, 5)],
            "legal_limit_days": legal,
            "promised_limit_days": promised,
            "visits": visits,
            "online_level": ("全程网办", "在线预审", "网上预约", "窗口办理")[min(3, visits + rng.randint(0, 1))],
            "fee": rng.choices(("不收费", "工本费20元", "工本费10元", "按规定标准收费"), (8, 1, 1, 1))[0],
            "fee_basis": "",
            "place": department["address"],
            "contact": department["phone"],
            "hours": rng.choice(HOURS),
            "materials": materials,
            "situations": situations,
            "form": _form(audience),
            "certificate": certificate,
            "status": "withdrawn" if rng.random() < 0.02 else "published",
        })
    return {
        "format": "yiwang-catalogue",
        "version": 1,
        "material_types": [{"code": c, "name": n, "description": ""} for c, n in MATERIAL_TYPES],
        "certificate_types": [{"code": c, "name": n, "material": m, "validity_years": None}
                              for c, n, m in CERTIFICATE_TYPES],
        "synonyms": [{"term": a, "alternative": b} for a, b in SYNONYMS],
        "items": out_items,
    }


def split(doc: dict[str, Any], per_file: int = MAX_ITEMS_PER_FILE) -> list[dict[str, Any]]:
    """The catalogue as documents of at most `per_file` items, each with all types and synonyms."""
    items = doc["items"]
    return [{**doc, "items": items[start:start + per_file]} for start in range(0, len(items), per_file)] or [doc]


def part_paths(path: str, parts: int) -> list[str]:
    """`gd.json` → `gd.json` for one part, else `gd-01.json`, `gd-02.json` …"""
    if parts == 1:
        return [path]
    stem, dot, ext = path.rpartition(".")
    if not dot or "/" in ext:
        stem, ext = path, "json"
    return [f"{stem}-{i:02d}.{ext}" for i in range(1, parts + 1)]


def write(doc: dict[str, Any], path: str) -> None:
    with open(path, "w", encoding="utf-8") as fp:
        json.dump(doc, fp, ensure_ascii=False, separators=(",", ":"))
        fp.write("\n")


def write_parts(doc: dict[str, Any], path: str, per_file: int = MAX_ITEMS_PER_FILE) -> list[str]:
    parts = split(doc, per_file)
    paths = part_paths(path, len(parts))
    for part, part_path in zip(parts, paths, strict=True):
        write(part, part_path)
    return paths


def base_names() -> list[str]:
    return [b for g in GROUPS for b in g.bases]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.catalogue", description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=CITY_ITEMS, help=f"number of items (default {CITY_ITEMS})")
    parser.add_argument("--out", required=True, help="the JSON file to write")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--per-file", type=int, default=MAX_ITEMS_PER_FILE,
                        help=f"items per file; more are split into FILE-01.json … (default {MAX_ITEMS_PER_FILE:,}, "
                        "the most `catalog import` accepts in one file)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    doc = generate(args.items, args.seed)
    paths = write_parts(doc, args.out, args.per_file)
    print(f"catalogue: {len(doc['items'])} items ({len(base_names())} base names) in "
          f"{time.perf_counter() - started:.1f}s to {', '.join(paths)}")
    if len(paths) > 1:
        print(f"  import them in order: for f in {' '.join(paths)}; do python -m app catalog import $f; done")


if __name__ == "__main__":
    main(sys.argv[1:])
