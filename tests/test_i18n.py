from tests.check_messages import problems


def test_indonesian_catalogue_complete_and_compiled():
    assert problems() == []
