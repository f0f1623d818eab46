"""Status rules over the default schedule, and custom schedules."""

from __future__ import annotations

from typing import Any

import pytest

import kycvs

S = kycvs.VaccinationStatus


def dose(product: str, n: int, date: str, kind: str | None = None) -> dict[str, Any]:
    d: dict[str, Any] = {"product": product, "dose": n, "date": date}
    if kind is not None:
        d["kind"] = kind
    return d


@pytest.mark.parametrize(
    ("doses", "status"),
    [
        ([], S.NOT_VACCINATED),
        ([dose("Covishield", 1, "2021-06-25")], S.PARTIALLY_VACCINATED),
        ([dose("Covishield", 1, "2021-06-25"), dose("covishield", 2, "2021-09-25")],
         S.FULLY_VACCINATED),
        ([dose("AZD1222", 1, "2021-06-25", "primary"), dose("Covishield", 2, "2021-09-25")],
         S.FULLY_VACCINATED),
        ([dose("Covaxin", 1, "2021-06-25")], S.PARTIALLY_VACCINATED),
        ([dose("Sputnik Light", 1, "2021-06-25")], S.FULLY_VACCINATED),
        ([dose("Janssen", 1, "2021-06-25")], S.FULLY_VACCINATED),
        ([dose("ZyCoV-D", 1, "2021-03-13"), dose("ZyCoV-D", 2, "2021-06-10")],
         S.PARTIALLY_VACCINATED),
        ([dose("ZyCoV-D", 1, "2021-03-13"), dose("ZyCoV-D", 2, "2021-06-10"),
          dose("ZyCoV-D", 3, "2021-07-26")], S.FULLY_VACCINATED),
        ([dose("Moderna", 1, "2021-06-25"), dose("Spikevax", 2, "2021-07-25")],
         S.FULLY_VACCINATED),
        # The first product sets the series length; a mixed second dose completes it.
        ([dose("Sputnik V", 1, "2021-01-27"), dose("Corbevax", 2, "2021-05-23")],
         S.FULLY_VACCINATED),
        ([dose("Covishield", 1, "2021-06-25"), dose("Covishield", 2, "2021-09-25"),
          dose("Covaxin", 3, "2022-01-25", "precaution")], S.FULLY_VACCINATED),
        # Listed out of order: ordered by dose number.
        ([dose("Covishield", 2, "2021-09-25"), dose("Covishield", 1, "2021-06-25")],
         S.FULLY_VACCINATED),
    ],
)
def test_default_schedule(doses: list[dict[str, Any]], status: kycvs.VaccinationStatus) -> None:
    got = kycvs.VaccineSchedule().status(doses)
    assert got is status
    assert isinstance(got, kycvs.VaccinationStatus)


@pytest.mark.parametrize(
    ("doses", "error"),
    [
        ([dose("Elixir", 1, "2021-06-25")], kycvs.UnknownProductError),
        ([dose("Covishield", 2, "2021-06-25")], kycvs.InvalidDoseRecordsError),
        ([dose("Covishield", 0, "2021-06-25")], kycvs.InvalidDoseRecordsError),
        ([dose("Covishield", 1, "2021-06-25"), dose("Covishield", 1, "2021-07-25")],
         kycvs.InvalidDoseRecordsError),
        ([dose("Covishield", 1, "2021-02-30")], kycvs.InvalidDoseRecordsError),
        ([dose("Covishield", 1, "2021-06-25"), dose("Covishield", 2, "2021-05-25")],
         kycvs.InvalidDoseRecordsError),
        ([dose("Covishield", 1, "2021-06-25", "precaution")], kycvs.InvalidDoseRecordsError),
        ([dose("Covishield", 1, "2021-06-25", "booster")], kycvs.InvalidDoseRecordsError),
        ([{"product": "Covishield", "dose": 1, "date": "2021-06-25", "lot": "X"}],
         kycvs.InvalidDoseRecordsError),
        ([{"product": "Covishield", "dose": "1", "date": "2021-06-25"}],
         kycvs.InvalidDoseRecordsError),
        ({"product": "Covishield"}, kycvs.InvalidDoseRecordsError),
        ([dose("Covishield", n, "2021-06-25") for n in range(1, 18)],
         kycvs.InvalidDoseRecordsError),
    ],
)
def test_bad_records(doses: Any, error: type[kycvs.KycvsError]) -> None:
    with pytest.raises(error):
        kycvs.VaccineSchedule().status(doses)


def test_not_json_serialisable_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        kycvs.VaccineSchedule().status([{"product": object()}])


def test_custom_schedule() -> None:
    schedule = kycvs.VaccineSchedule.from_json(
        b'{"version":1,"products":[{"name":"Elixir","primary_doses":3,"aliases":["ELX"]}]}'
    )
    assert schedule.primary_doses("elx") == 3
    assert schedule.primary_doses("Covishield") is None
    assert schedule.status([dose("Elixir", 1, "2021-06-25")]) is S.PARTIALLY_VACCINATED
    with pytest.raises(kycvs.UnknownProductError):
        schedule.status([dose("Covishield", 1, "2021-06-25")])
    assert kycvs.VaccineSchedule().primary_doses("Covishield") == 2
    assert repr(kycvs.VaccineSchedule()) == "VaccineSchedule(products=9)"
    for bad in ["{}", "not json", '{"version":1,"products":[{"name":"A","primary_doses":0}]}',
                '{"version":1,"products":[{"name":"A","primary_doses":1},'
                '{"name":"a","primary_doses":2}]}']:
        with pytest.raises(kycvs.InvalidScheduleError):
            kycvs.VaccineSchedule.from_json(bad)
